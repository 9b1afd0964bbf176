#include "datapath/DatapathFactory.hpp"

#include "base/Log.hpp"
#include "datapath/KernelDatapath.hpp"
#include "datapath/WorkerDatapath.hpp"
#include "datapath/kernel/TcRedirect.hpp"
#include "ports/VerbsBackend.hpp"
#include "vf/PairBackendRegistry.hpp"

namespace tvf {

Result<DatapathPtr> ModeDatapathFactory::makeUser(const DatapathSpec& spec, const std::string& reason) {
  // A kernel-mode run killed before this one left its egress program on
  // tvf0, which would go on redirecting what the workers should read.
  auto stale = TcRedirect::removeEgressProgram(spec.tapIfindex);
  if (!stale) return stale.error();
  if (*stale)
    moduleLogger("datapath")->info("{}: removed the kernel datapath's egress program a previous run left on the TAP",
                                   spec.config.name);
  auto backends = std::make_unique<PairBackendRegistry>(spec.config.vfDatapath, spec.config.queues);
  return DatapathPtr(std::make_unique<WorkerDatapath>(spec.config.name, spec.queueFds, std::move(backends),
                                                      spec.workerPriority, reason));
}

Result<DatapathPtr> ModeDatapathFactory::makeKernel(const DatapathSpec& spec, const std::string& reason) {
  if (!spec.ingress) return Error{EINVAL, "kernel datapath for " + spec.config.name + ": no owner of the ingress hooks"};
  // tvf0's egress program, if a previous run left one, leads to its maps:
  // the configuration and the counters carry over.
  auto programs = TcRedirect::load(spec.config.name, {spec.tapIfindex}, spec.config.tcHook);
  if (!programs) return programs.error();
  return DatapathPtr(std::make_unique<KernelDatapath>(spec.config.name, spec.tapIfindex, spec.queueFds,
                                                      std::move(programs).value(), *spec.ingress, reason));
}

Result<DatapathPtr> ModeDatapathFactory::make(const DatapathSpec& spec) {
  const auto& cfg = spec.config;
  switch (cfg.datapath) {
    case DatapathMode::User:
      return makeUser(spec, "datapath: user");
    case DatapathMode::Kernel:
      return makeKernel(spec, "datapath: kernel");
    case DatapathMode::Auto:
      break;
  }
  if (cfg.vfDatapath == VfDatapath::Verbs)
    return makeUser(spec, "auto: vf_datapath verbs is a userspace backend");
  auto kernel = makeKernel(spec, "auto: tc-BPF programs loaded");
  if (kernel) return kernel;
  const std::string why = kernel.error().describe();
  moduleLogger("datapath")->warn("{}: kernel datapath refused ({}); running the user datapath", cfg.name, why);
  return makeUser(spec, "auto: kernel datapath refused: " + why);
}

bool ModeDatapathFactory::verbsBuilt() const { return tvf::verbsBuilt(); }

}  // namespace tvf
