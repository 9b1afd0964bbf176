// Builds each pair's Datapath. Today every pair runs the user datapath
// (WorkerDatapath) with its backends chosen by vf/PairBackendRegistry;
// the kernel datapath (tc-BPF redirect) is chosen here per pair once it
// exists.
//
// Thread: the control thread.
#pragma once

#include "tvf/Datapath.hpp"

namespace tvf {

class UserDatapathFactory final : public DatapathFactory {
 public:
  Result<DatapathPtr> make(const DatapathSpec& spec) override;
  bool verbsBuilt() const override;
};

}  // namespace tvf
