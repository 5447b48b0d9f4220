"""Generated protobuf and gRPC stubs of the hubstats.v1 API (see tools/generate_stubs.py)."""
