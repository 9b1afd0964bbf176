#include "datapath/DatapathFactory.hpp"

#include "datapath/WorkerDatapath.hpp"
#include "ports/VerbsBackend.hpp"
#include "vf/PairBackendRegistry.hpp"

namespace tvf {

Result<DatapathPtr> UserDatapathFactory::make(const DatapathSpec& spec) {
  auto backends = std::make_unique<PairBackendRegistry>(spec.config.vfDatapath, spec.config.queues);
  return DatapathPtr(std::make_unique<WorkerDatapath>(spec.config.name, spec.queueFds, std::move(backends),
                                                      spec.workerPriority, "the only datapath built"));
}

bool UserDatapathFactory::verbsBuilt() const { return tvf::verbsBuilt(); }

}  // namespace tvf
