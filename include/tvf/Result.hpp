// Result types for operations that can fail for environmental reasons.
// An errno value travels as a value, never as an exception (STYLE: errors by kind).
#pragma once

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tvf {

// An environment error: an errno plus what was being done.
struct Error {
  int code = 0;          // errno value (ENODEV, ENXIO, EBUSY, EINVAL, ...)
  std::string what;      // the operation, e.g. "set mtu 9000 on vf0"

  std::string describe() const {
    return what + ": " + std::strerror(code);
  }
};

// Success or an Error.
class Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e)) {}  // NOLINT: implicit by design
  static Status ok() { return {}; }
  static Status fail(int code, std::string what) { return Error{code, std::move(what)}; }

  bool isOk() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return isOk(); }
  const Error& error() const { return *error_; }
  int code() const noexcept { return error_ ? error_->code : 0; }

 private:
  std::optional<Error> error_;
};

// A value or an Error.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT
  Result(Error e) : v_(std::move(e)) {}      // NOLINT

  bool isOk() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return isOk(); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<Error>(v_); }
  Status status() const { return isOk() ? Status{} : Status{error()}; }

 private:
  std::variant<T, Error> v_;
};

}  // namespace tvf
