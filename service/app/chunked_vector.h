// ChunkedVector: a growable array stored in fixed-size chunks.
//
// Growing never moves an element, so references stay valid for the container's life, and it
// never holds an old and a new copy of the whole array at once: a std::vector of 2M entries
// of 56 bytes doubles from 117 MB into 235 MB and, for the copy, has both resident. Memory in
// use is the elements plus at most one partly filled chunk.
//
// Not thread-safe (like std::vector).
#ifndef HUBSTATS_SERVICE_APP_CHUNKED_VECTOR_H_
#define HUBSTATS_SERVICE_APP_CHUNKED_VECTOR_H_

#include <cstddef>
#include <memory>
#include <vector>

namespace hubstats {

// `kChunkBits`: log2 of the elements per chunk.
template <typename T, int kChunkBits = 14>
class ChunkedVector {
 public:
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  T& operator[](size_t i) { return chunks_[i >> kChunkBits][i & (kChunkSize - 1)]; }
  const T& operator[](size_t i) const { return chunks_[i >> kChunkBits][i & (kChunkSize - 1)]; }

  // Appends a value-initialized element and returns it.
  T& emplace_back() {
    if (size_ == chunks_.size() * kChunkSize) {
      chunks_.push_back(std::make_unique<T[]>(kChunkSize));
    }
    T& element = (*this)[size_];
    ++size_;
    return element;
  }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_CHUNKED_VECTOR_H_
