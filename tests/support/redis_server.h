// Test helpers that run real servers as child processes.
#ifndef HUBSTATS_TESTS_SUPPORT_REDIS_SERVER_H_
#define HUBSTATS_TESTS_SUPPORT_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace hubstats::test_support {

// A free TCP port on 127.0.0.1 (bound and released, so another process may race for it;
// callers retry on failure).
int FreeLoopbackPort();

// A child process; killed (SIGKILL unless stopped first) on destruction, and by the kernel if
// the test process dies first.
class ChildProcess {
 public:
  // Starts argv[0] (searched on PATH) with output appended to `log_path` ("" = inherit).
  static std::unique_ptr<ChildProcess> Start(const std::vector<std::string>& argv,
                                             const std::string& log_path = "");
  ~ChildProcess();
  pid_t pid() const { return pid_; }
  // Sends `signal` and waits for the exit; returns the wait status.
  int Stop(int signal);
  bool running();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
};

// redis-server on a free loopback port with a private directory and no persistence.
class RedisServer {
 public:
  // Aborts the test binary when redis-server cannot be started (it is a hard requirement).
  // `extra_args` are more redis-server options ("--aclfile", path, ...).
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  // Runs redis-cli with `args` against this server; returns its stdout (and stderr).
  std::string Cli(const std::string& args) const;
  // The directory the server keeps its files in (removed with the server).
  const std::string& directory() const { return directory_; }
  // Stops the process (SIGSTOP) so it answers nothing, and lets it go on (SIGCONT).
  void Pause();
  void Resume();

 private:
  int port_ = 0;
  std::string directory_;
  std::unique_ptr<ChildProcess> process_;
};

// A hubstats-server process on a free loopback port, killed on destruction.
class ServerProcess {
 public:
  // Starts `binary` with `--listen 127.0.0.1:<port> --max-lateness-days any --retention-days
  // forever` (tests replay fixed days of 2024 and query them by day) plus `args` (a later flag
  // wins); aborts when it does not come up.
  // Output goes to `log_path` when given.
  ServerProcess(const std::string& binary, const std::vector<std::string>& args,
                const std::string& log_path = "");
  int port() const { return port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  ChildProcess& process() { return *process_; }

 private:
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// Waits until a TCP connect to 127.0.0.1:port succeeds; false after `timeout_ms`.
bool WaitForPort(int port, int timeout_ms);

// Runs `command` with /bin/sh; returns what it printed on stdout.
std::string ShellOutput(const std::string& command);

}  // namespace hubstats::test_support

#endif  // HUBSTATS_TESTS_SUPPORT_REDIS_SERVER_H_
