"""Parc wire contract: generated protobuf and gRPC code for package parc.v1."""
