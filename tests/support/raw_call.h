// gRPC calls that send and receive raw bytes, for tests that send what no generated stub would
// (malformed messages, strings that are not UTF-8, deep nesting).
#ifndef HUBSTATS_TESTS_SUPPORT_RAW_CALL_H_
#define HUBSTATS_TESTS_SUPPORT_RAW_CALL_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

namespace hubstats::test_support {

// One bidirectional streaming call, driven synchronously. Not thread-safe.
class RawBidiCall {
 public:
  // Starts `method` ("/package.Service/Method") on `channel`; `deadline_ms` bounds the call.
  RawBidiCall(std::shared_ptr<grpc::Channel> channel, const std::string& method,
              int deadline_ms = 30'000);
  ~RawBidiCall();

  // False once the call is over.
  bool Write(const std::string& bytes);
  // The next message, or nullopt when the server ended the call.
  std::optional<std::string> Read();
  void WritesDone();
  // The call's status; reads anything the server still sends first.
  grpc::Status Finish();

 private:
  bool Wait();

  grpc::ClientContext context_;
  grpc::CompletionQueue queue_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  bool finished_ = false;
  grpc::Status status_;
};

// One unary call with raw bytes; `response` receives the answer's bytes.
grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                          const std::string& request, std::string* response = nullptr);

}  // namespace hubstats::test_support

#endif  // HUBSTATS_TESTS_SUPPORT_RAW_CALL_H_
