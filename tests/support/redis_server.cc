#include "redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace hubstats::test_support {

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("FreeLoopbackPort");
    std::abort();
  }
  const int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

bool WaitForPort(int port, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(fd);
    if (connected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::unique_ptr<ChildProcess> ChildProcess::Start(const std::vector<std::string>& argv,
                                                  const std::string& log_path) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::abort();
  }
  if (pid == 0) {
    // Die with the test, even when it crashes or is killed, so no server outlives it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!log_path.empty()) {
      const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
      }
    }
    execvp(args[0], args.data());
    std::perror(args[0]);
    _exit(127);
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

int ChildProcess::Stop(int signal) {
  if (reaped_) return 0;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped_ = true;
  return status;
}

bool ChildProcess::running() {
  if (reaped_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

ChildProcess::~ChildProcess() { Stop(SIGKILL); }

RedisServer::RedisServer(std::vector<std::string> extra_args) {
  char pattern[] = "/tmp/hubstats-redis-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  directory_ = pattern;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreeLoopbackPort();
    std::vector<std::string> argv = {
        "redis-server", "--bind",           "127.0.0.1", "--port", std::to_string(port_),
        "--dir",        directory_,         "--save",    "",       "--appendonly",
        "no",           "--protected-mode", "no"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    process_ = ChildProcess::Start(argv, directory_ + "/redis.log");
    if (WaitForPort(port_, 5000) && process_->running()) return;
    process_.reset();
  }
  std::fprintf(stderr, "could not start redis-server (is it installed?); see %s/redis.log\n",
               directory_.c_str());
  std::abort();
}

RedisServer::~RedisServer() {
  process_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::string RedisServer::Cli(const std::string& args) const {
  return ShellOutput("redis-cli -h 127.0.0.1 -p " + std::to_string(port_) + " " + args + " 2>&1");
}

std::string ShellOutput(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, read);
  pclose(pipe);
  return output;
}

void RedisServer::Pause() { kill(process_->pid(), SIGSTOP); }

void RedisServer::Resume() { kill(process_->pid(), SIGCONT); }

ServerProcess::ServerProcess(const std::string& binary, const std::vector<std::string>& args,
                             const std::string& log_path) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreeLoopbackPort();
    std::vector<std::string> argv = {binary,
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "--max-lateness-days",
                                     "any",
                                     "--retention-days",
                                     "forever"};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = ChildProcess::Start(argv, log_path);
    if (WaitForPort(port_, 10000) && process_->running()) return;
    process_.reset();
  }
  std::fprintf(stderr, "could not start %s\n", binary.c_str());
  std::abort();
}

}  // namespace hubstats::test_support
