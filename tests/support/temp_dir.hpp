#pragma once

#include <filesystem>
#include <string_view>

namespace maestro::test {

/// A fresh directory under the system's temporary directory, removed with
/// everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir();

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  /// Writes `content` to `name` inside the directory and returns its path.
  std::filesystem::path write(std::string_view name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

/// The whole content of a file.
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

}  // namespace maestro::test
