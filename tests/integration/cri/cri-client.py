#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A small CRI v1 client, as kubelet would call a runtime, for the cri test:
#   cri-client.py --socket PATH --pb DIR [--timeout S] METHOD [REQUEST_JSON]
# sends one RuntimeService or ImageService call over gRPC and prints the
# answer as one line of JSON (proto field names, defaults included, top-level
# bytes fields such as ExecSync's stdout as text).  DIR holds cri_pb2.py,
# made by `protoc --python_out=DIR cri.proto`.  A gRPC error is one line on
# stderr, "cri: METHOD: CODE: details", and exit status 1; bad usage is 2.
#   cri-client.py --socket PATH --pb DIR --serve
# answers calls read from stdin, one a line, "METHOD TIMEOUT REQUEST_JSON",
# with one line each, "ok ANSWER_JSON" or "error MESSAGE": importing grpc
# costs a second on a loaded machine, too much to pay for every call.
# Run it as /usr/bin/python3: Debian's grpc and protobuf live there.
import argparse
import importlib
import json
import sys

import grpc
from google.protobuf import descriptor, json_format


def find_method(pb, name):
    for service in pb.DESCRIPTOR.services_by_name.values():
        method = service.methods_by_name.get(name)
        if method is not None:
            return service, method
    return None, None


def answer_to_dict(msg):
    out = json_format.MessageToDict(
        msg, preserving_proto_field_name=True, including_default_value_fields=True
    )
    for field in msg.DESCRIPTOR.fields:
        if field.type == descriptor.FieldDescriptor.TYPE_BYTES:
            out[field.name] = getattr(msg, field.name).decode("utf-8", "replace")
    return out


class CallError(Exception):
    """A failed call: its one-line message, and the exit status it gives."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def call(channel, pb, name, request_json, timeout):
    """One call; its answer as a dict, or CallError with the message."""
    service, method = find_method(pb, name)
    if method is None:
        raise CallError(f"cri: {name}: no such method in cri.proto", 2)
    request_type = getattr(pb, method.input_type.name)
    answer_type = getattr(pb, method.output_type.name)
    try:
        request = json_format.Parse(request_json, request_type())
    except json_format.ParseError as e:
        raise CallError(f"cri: {name}: bad request: {e}", 2) from None
    stub = channel.unary_unary(
        f"/{service.full_name}/{method.name}",
        request_serializer=request_type.SerializeToString,
        response_deserializer=answer_type.FromString,
    )
    try:
        return answer_to_dict(stub(request, timeout=timeout))
    except grpc.RpcError as e:
        details = (e.details() or "").replace("\n", " ")
        raise CallError(f"cri: {name}: {e.code().name}: {details}") from None


def serve(channel, pb):
    for line in sys.stdin:
        parts = line.strip().split(" ", 2)
        try:
            if len(parts) < 2:
                raise CallError(f"cri: bad line: {line.strip()}", 2)
            answer = call(channel, pb, parts[0], parts[2] if len(parts) > 2 else "{}",
                          float(parts[1]))
            print("ok " + json.dumps(answer, sort_keys=True), flush=True)
        except (CallError, ValueError) as e:
            print(f"error {e}", flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description="call CRI v1 methods")
    ap.add_argument("--socket", required=True, help="the runtime's unix socket")
    ap.add_argument("--pb", required=True, help="the directory holding cri_pb2.py")
    ap.add_argument("--timeout", type=float, default=30, help="seconds for the call")
    ap.add_argument("--serve", action="store_true", help="answer calls read from stdin")
    ap.add_argument("method", nargs="?")
    ap.add_argument("request", nargs="?", default="{}")
    args = ap.parse_args()
    if not args.serve and args.method is None:
        ap.error("a METHOD, or --serve")

    sys.path.insert(0, args.pb)
    pb = importlib.import_module("cri_pb2")
    with grpc.insecure_channel(f"unix://{args.socket}") as channel:
        if args.serve:
            return serve(channel, pb)
        try:
            answer = call(channel, pb, args.method, args.request, args.timeout)
        except CallError as e:
            print(e, file=sys.stderr)
            return e.status
    print(json.dumps(answer, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
