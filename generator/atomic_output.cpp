#include "atomic_output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "generator_error.hpp"

namespace gen {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& step) {
    throw GeneratorError("cannot write " + path + ": " + step + ": " + std::strerror(errno));
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// A replaced file keeps its mode; a new one gets what the umask allows, as if created by the shell.
mode_t mode_for(const std::string& path) {
    struct stat existing {};
    if (stat(path.c_str(), &existing) == 0) return existing.st_mode & 07777;
    const mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

void write_all(int descriptor, const std::string& content) {
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t count = ::write(descriptor, content.data() + written, content.size() - written);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) throw std::system_error(errno, std::generic_category());
        written += static_cast<std::size_t>(count);
    }
}

void write_stdout(const std::string& content) {
    std::cout << content << std::flush;
    if (!std::cout) throw GeneratorError("cannot write to stdout");
}

void replace_file(const std::string& path, const std::string& content) {
    std::string temporary = directory_of(path) + "/.generator-XXXXXX";
    std::vector<char> name(temporary.begin(), temporary.end());
    name.push_back('\0');
    const int descriptor = mkstemp(name.data());
    if (descriptor < 0) fail(path, "creating a temporary file in " + directory_of(path));
    temporary = name.data();
    try {
        write_all(descriptor, content);
        if (fchmod(descriptor, mode_for(path)) != 0 || fsync(descriptor) != 0) {
            throw std::system_error(errno, std::generic_category());
        }
    } catch (const std::system_error& error) {
        close(descriptor);
        unlink(temporary.c_str());
        errno = error.code().value();
        fail(path, "writing " + temporary);
    }
    if (close(descriptor) != 0 || rename(temporary.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        unlink(temporary.c_str());
        errno = saved;
        fail(path, "renaming " + temporary);
    }
}

}  // namespace

void write_output(const std::string& path, const std::string& content) {
    if (path == "-") {
        write_stdout(content);
    } else {
        replace_file(path, content);
    }
}

}  // namespace gen
