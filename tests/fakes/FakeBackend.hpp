// A backend whose ports come from a test's function, with features the
// test sets (a backend without TSO, say), and a registry of two of them.
#pragma once

#include <functional>
#include <memory>

#include "tvf/Backend.hpp"

namespace tvf::testing {

using FakeOpen = std::function<Result<PortPtr>(const LinkInfo& link, unsigned queue, unsigned queues)>;

class FakeBackend final : public Backend {
 public:
  explicit FakeBackend(FakeOpen open, BackendFeatures features = BackendFeatures::full("packet"))
      : open_(std::move(open)), features_(std::move(features)) {}
  std::string_view mechanism() const override { return features_.mechanism; }
  Result<BackendFeatures> probe(const LinkInfo&, unsigned queues) override {
    ++probes;
    auto f = features_;
    f.queues = queues;
    return f;
  }
  Result<PortPtr> open(const LinkInfo& link, unsigned queue, const BackendFeatures& negotiated) override {
    if (!open_) return Error{EOPNOTSUPP, "no opener"};
    return open_(link, queue, negotiated.queues);
  }
  int probes = 0;

 private:
  FakeOpen open_;
  BackendFeatures features_;
};

class FakeBackendRegistry final : public BackendRegistry {
 public:
  FakeBackendRegistry(FakeOpen synthetic, FakeOpen vf) : synthetic_(std::move(synthetic)), vf_(std::move(vf)) {}
  Backend& synthetic() override { return synthetic_; }
  Result<Backend*> vf(const LinkInfo&) override { return &vf_; }

 private:
  FakeBackend synthetic_;
  FakeBackend vf_;
};

inline BackendRegistryPtr fakeBackends(FakeOpen synthetic, FakeOpen vf) {
  return std::make_unique<FakeBackendRegistry>(std::move(synthetic), std::move(vf));
}

}  // namespace tvf::testing
