/**
 * A hand-written subset of the ONNX protobuf schema (onnx/onnx.proto, proto2 syntax), as a
 * protobufjs JSON descriptor: the messages a small inference graph needs (model, graph,
 * node, attribute, tensor, value info, type, shape, opset id, string map entry). Field
 * numbers, types and packing follow onnx.proto; messages and fields that are left out
 * (training info, functions, sparse tensors, sequence/map types, ...) are skipped by the
 * decoder as unknown fields, so reading a full model still works. Fields are listed in
 * field-number order, the order C++ protobuf serializes them in, so decoding a model that
 * uses only these fields and encoding it again gives back the same bytes.
 */
import protobuf from "protobufjs";

/** TensorProto.DataType values used here (onnx.proto numbering). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;

/** Readable name of a TensorProto.DataType number ("float32", "float64", "int64", ...). */
export function dataTypeName(t: number): string {
  switch (t) {
    case DataType.FLOAT:
      return "float32";
    case DataType.DOUBLE:
      return "float64";
    case DataType.FLOAT16:
      return "float16";
    case DataType.INT64:
      return "int64";
    case DataType.INT32:
      return "int32";
    case DataType.INT8:
      return "int8";
    case DataType.UINT8:
      return "uint8";
    case DataType.BOOL:
      return "bool";
    case DataType.STRING:
      return "string";
    default:
      return `data_type ${t}`;
  }
}

/** AttributeProto.AttributeType values (onnx.proto numbering). */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

const packed = { packed: true };
const unpacked = { packed: false };

/** protobufjs JSON descriptor of the subset (package `onnx`). */
export const onnxDescriptor = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: {
          fields: {
            key: { type: "string", id: 1 },
            value: { type: "string", id: 2 },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: { type: "string", id: 1 },
            version: { type: "int64", id: 2 },
          },
        },
        ModelProto: {
          fields: {
            ir_version: { type: "int64", id: 1 },
            producer_name: { type: "string", id: 2 },
            producer_version: { type: "string", id: 3 },
            domain: { type: "string", id: 4 },
            model_version: { type: "int64", id: 5 },
            doc_string: { type: "string", id: 6 },
            graph: { type: "GraphProto", id: 7 },
            opset_import: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
            metadata_props: { rule: "repeated", type: "StringStringEntryProto", id: 14 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            doc_string: { type: "string", id: 10 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
            value_info: { rule: "repeated", type: "ValueInfoProto", id: 13 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            name: { type: "string", id: 3 },
            op_type: { type: "string", id: 4 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
            doc_string: { type: "string", id: 6 },
            domain: { type: "string", id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            f: { type: "float", id: 2 },
            i: { type: "int64", id: 3 },
            s: { type: "bytes", id: 4 },
            t: { type: "TensorProto", id: 5 },
            g: { type: "GraphProto", id: 6 },
            floats: { rule: "repeated", type: "float", id: 7, options: unpacked },
            ints: { rule: "repeated", type: "int64", id: 8, options: unpacked },
            strings: { rule: "repeated", type: "bytes", id: 9 },
            tensors: { rule: "repeated", type: "TensorProto", id: 10 },
            graphs: { rule: "repeated", type: "GraphProto", id: 11 },
            doc_string: { type: "string", id: 13 },
            type: { type: "AttributeType", id: 20 },
            ref_attr_name: { type: "string", id: 21 },
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                INT: 2,
                STRING: 3,
                TENSOR: 4,
                GRAPH: 5,
                FLOATS: 6,
                INTS: 7,
                STRINGS: 8,
                TENSORS: 9,
                GRAPHS: 10,
                SPARSE_TENSOR: 11,
                SPARSE_TENSORS: 12,
                TYPE_PROTO: 13,
                TYPE_PROTOS: 14,
              },
            },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: "string", id: 1 },
            type: { type: "TypeProto", id: 2 },
            doc_string: { type: "string", id: 3 },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ["tensor_type"] } },
          fields: {
            tensor_type: { type: "Tensor", id: 1 },
            denotation: { type: "string", id: 6 },
          },
          nested: {
            Tensor: {
              fields: {
                elem_type: { type: "int32", id: 1 },
                shape: { type: "TensorShapeProto", id: 2 },
              },
            },
          },
        },
        TensorShapeProto: {
          fields: {
            dim: { rule: "repeated", type: "Dimension", id: 1 },
          },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dim_value", "dim_param"] } },
              fields: {
                dim_value: { type: "int64", id: 1 },
                dim_param: { type: "string", id: 2 },
                denotation: { type: "string", id: 3 },
              },
            },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1, options: unpacked },
            data_type: { type: "int32", id: 2 },
            float_data: { rule: "repeated", type: "float", id: 4, options: packed },
            int32_data: { rule: "repeated", type: "int32", id: 5, options: packed },
            string_data: { rule: "repeated", type: "bytes", id: 6 },
            int64_data: { rule: "repeated", type: "int64", id: 7, options: packed },
            name: { type: "string", id: 8 },
            raw_data: { type: "bytes", id: 9 },
            double_data: { rule: "repeated", type: "double", id: 10, options: packed },
            uint64_data: { rule: "repeated", type: "uint64", id: 11, options: packed },
            doc_string: { type: "string", id: 12 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(onnxDescriptor);
/** The protobufjs message types of the subset. */
export const ModelProtoType = root.lookupType("onnx.ModelProto");

// Plain-object views of the messages (as `decodeModel` returns them: int64 as number,
// bytes as Uint8Array, absent optional fields undefined).

export interface TensorShapeDim {
  dim_value?: number;
  dim_param?: string;
}

export interface ValueInfo {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: TensorShapeDim[] } } };
  doc_string?: string;
}

export interface TensorMessage {
  name?: string;
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  raw_data?: Uint8Array;
  doc_string?: string;
}

export interface AttributeMessage {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMessage;
  floats?: number[];
  ints?: number[];
}

export interface NodeMessage {
  input?: string[];
  output?: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute?: AttributeMessage[];
  doc_string?: string;
}

export interface GraphMessage {
  node?: NodeMessage[];
  name?: string;
  initializer?: TensorMessage[];
  input?: ValueInfo[];
  output?: ValueInfo[];
  value_info?: ValueInfo[];
  doc_string?: string;
}

export interface ModelMessage {
  ir_version?: number;
  opset_import?: { domain?: string; version?: number }[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph?: GraphMessage;
  metadata_props?: { key?: string; value?: string }[];
}

/** Decode a serialized ModelProto into plain objects (int64 fields become numbers). */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  const msg = ModelProtoType.decode(bytes);
  // bytes stay Uint8Array (Buffer) views of the input; int64 becomes number (all the ints
  // of interest are far below 2^53).
  return ModelProtoType.toObject(msg, { longs: Number, enums: Number }) as ModelMessage;
}

/** Serialize a plain ModelMessage (validated against the schema first). */
export function encodeModel(model: ModelMessage): Uint8Array {
  const err = ModelProtoType.verify(model as unknown as Record<string, unknown>);
  if (err) throw new Error(`onnx writer: invalid ModelProto: ${err}`);
  return ModelProtoType.encode(
    ModelProtoType.fromObject(model as unknown as Record<string, unknown>),
  ).finish();
}
