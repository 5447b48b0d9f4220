#include "raw_call.h"

#include <chrono>
#include <vector>

namespace hubstats::test_support {
namespace {

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

}  // namespace

RawBidiCall::RawBidiCall(std::shared_ptr<grpc::Channel> channel, const std::string& method,
                         int deadline_ms) {
  context_.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  grpc::GenericStub stub(std::move(channel));
  call_ = stub.PrepareCall(&context_, method, &queue_);
  call_->StartCall(this);
  Wait();
}

RawBidiCall::~RawBidiCall() {
  if (!finished_) {
    context_.TryCancel();
    Finish();
  }
  queue_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (queue_.Next(&tag, &ok)) {
  }
}

bool RawBidiCall::Wait() {
  void* tag = nullptr;
  bool ok = false;
  return queue_.Next(&tag, &ok) && ok;
}

bool RawBidiCall::Write(const std::string& bytes) {
  const grpc::ByteBuffer buffer = ToBuffer(bytes);
  call_->Write(buffer, this);
  return Wait();
}

std::optional<std::string> RawBidiCall::Read() {
  grpc::ByteBuffer buffer;
  call_->Read(&buffer, this);
  if (!Wait()) return std::nullopt;
  return FromBuffer(buffer);
}

void RawBidiCall::WritesDone() {
  call_->WritesDone(this);
  Wait();
}

grpc::Status RawBidiCall::Finish() {
  if (finished_) return status_;
  while (Read()) {
  }
  call_->Finish(&status_, this);
  Wait();
  finished_ = true;
  return status_;
}

grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                          const std::string& request, std::string* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::CompletionQueue queue;
  grpc::GenericStub stub(channel);
  const grpc::ByteBuffer buffer = ToBuffer(request);
  auto call = stub.PrepareUnaryCall(&context, method, buffer, &queue);
  call->StartCall();
  grpc::ByteBuffer answer;
  grpc::Status status;
  int tag = 0;
  call->Finish(&answer, &status, &tag);
  void* got = nullptr;
  bool ok = false;
  queue.Next(&got, &ok);
  if (response != nullptr) *response = FromBuffer(answer);
  queue.Shutdown();
  while (queue.Next(&got, &ok)) {
  }
  return status;
}

}  // namespace hubstats::test_support
