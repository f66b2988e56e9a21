// Result<T>: the one error style of Ritma's libraries. A function that can fail returns
// Result<T> (or Status for no value) carrying either the value or an Error with a message a
// person can act on. Exceptions are used only at the CLI edge.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ritma {

struct Error {
  std::string message;
};

inline Error make_error(std::string message) {
  return Error{std::move(message)};
}

// E is Error or a type derived from it that says more (api::DbError); RITMA_TRY passes either
// up into a plain Result.
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Requires ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Requires !ok().
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return error_; }

 private:
  E error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace ritma

// Propagates the error of a Result expression; evaluates to nothing on success.
#define RITMA_TRY(expr)                                            \
  do {                                                             \
    auto ritma_try_status_ = (expr);                               \
    if (!ritma_try_status_.ok()) return ritma_try_status_.error(); \
  } while (0)

// Declares `lhs` from a Result expression's value, or propagates its error.
#define RITMA_CONCAT_INNER_(a, b) a##b
#define RITMA_CONCAT_(a, b) RITMA_CONCAT_INNER_(a, b)
#define RITMA_ASSIGN_OR_RETURN(lhs, expr) \
  RITMA_ASSIGN_OR_RETURN_IMPL_(RITMA_CONCAT_(ritma_result_, __LINE__), lhs, expr)
#define RITMA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.error();                 \
  lhs = std::move(tmp).value()
