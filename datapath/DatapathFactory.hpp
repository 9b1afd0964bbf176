// Builds each pair's Datapath from its `datapath` key:
//   kernel  KernelDatapath (tc-BPF redirect); an error when its programs
//           cannot be loaded;
//   user    WorkerDatapath (worker threads) over the backends that
//           vf/PairBackendRegistry chooses;
//   auto    kernel where the programs load and the VF backend is a netdev,
//           user otherwise (vf_datapath verbs, or BPF refused), with the
//           reason logged and shown in status.
//
// Thread: the control thread.
#pragma once

#include "tvf/Datapath.hpp"

namespace tvf {

class ModeDatapathFactory final : public DatapathFactory {
 public:
  Result<DatapathPtr> make(const DatapathSpec& spec) override;
  bool verbsBuilt() const override;

 private:
  Result<DatapathPtr> makeKernel(const DatapathSpec& spec, const std::string& reason);
  Result<DatapathPtr> makeUser(const DatapathSpec& spec, const std::string& reason);
};

}  // namespace tvf
