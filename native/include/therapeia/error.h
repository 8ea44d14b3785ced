#pragma once

#include <stdexcept>
#include <string>

namespace therapeia {

// The one exception type the core throws. Its message names the file, tensor, field or limit
// at fault, so that it can be shown to an operator as it is (the JNI layer forwards it to Java).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace therapeia
