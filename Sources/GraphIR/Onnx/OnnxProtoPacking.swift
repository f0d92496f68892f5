import CProtobufC
import Foundation
import TRMGProto

/// Builds protobuf-c `FunctionProto` trees from `OnnxFunction` values, in the writer's arena.
/// Field order in the packed bytes is protobuf-c's (by field number), which is also what the onnx
/// Python package writes, so `onnx.load(f).SerializeToString()` reproduces the file.
enum OnnxProtoPacking {
    static func function(_ f: OnnxFunction, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__FunctionProto> {
        let p = try arena.message(trmg__function_proto__init)
        p.pointee.name = try arena.cString(f.name)
        p.pointee.domain = try arena.cString(f.domain)
        if let overload = f.overload { p.pointee.overload = try arena.cString(overload) }
        p.pointee.n_input = f.inputs.count
        p.pointee.input = try arena.cStrings(f.inputs)
        p.pointee.n_output = f.outputs.count
        p.pointee.output = try arena.cStrings(f.outputs)
        p.pointee.n_attribute = f.attributes.count
        p.pointee.attribute = try arena.cStrings(f.attributes)
        let nodes = try f.nodes.map { try node($0, arena) }
        p.pointee.n_node = nodes.count
        p.pointee.node = try arena.pointers(nodes)
        let opsets = try f.opsetImports.map { o -> UnsafeMutablePointer<Trmg__OperatorSetIdProto> in
            let m = try arena.message(trmg__operator_set_id_proto__init)
            m.pointee.domain = try arena.cString(o.domain)
            m.pointee.has_version = 1
            m.pointee.version = o.version
            return m
        }
        p.pointee.n_opset_import = opsets.count
        p.pointee.opset_import = try arena.pointers(opsets)
        return p
    }

    static func node(_ n: OnnxNode, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__NodeProto> {
        let p = try arena.message(trmg__node_proto__init)
        p.pointee.op_type = try arena.cString(n.opType)
        // Standard-domain nodes leave the field unset, as onnx.helper does.
        if !n.domain.isEmpty { p.pointee.domain = try arena.cString(n.domain) }
        p.pointee.n_input = n.inputs.count
        p.pointee.input = try arena.cStrings(n.inputs)
        p.pointee.n_output = n.outputs.count
        p.pointee.output = try arena.cStrings(n.outputs)
        let attrs = try n.attributes.map { try attribute($0, arena) }
        p.pointee.n_attribute = attrs.count
        p.pointee.attribute = try arena.pointers(attrs)
        return p
    }

    static func attribute(_ a: OnnxAttribute, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__AttributeProto> {
        let p = try arena.message(trmg__attribute_proto__init)
        p.pointee.name = try arena.cString(a.name)
        p.pointee.has_type = 1
        p.pointee.type = Trmg__AttributeProto__AttributeType(rawValue: UInt32(a.value.kind.rawValue))
        switch a.value {
        case .int(let i):
            p.pointee.has_i = 1
            p.pointee.i = Int64(i)
        case .float(let f):
            p.pointee.has_f = 1
            p.pointee.f = f
        case .ints(let v):
            p.pointee.n_ints = v.count
            p.pointee.ints = try arena.array(v.map(Int64.init))
        case .floats(let v):
            p.pointee.n_floats = v.count
            p.pointee.floats = try arena.array(v)
        case .string(let s):
            p.pointee.has_s = 1
            p.pointee.s = try Array(s.utf8).withUnsafeBytes { try arena.binary($0) }
        case .tensor(let t):
            p.pointee.t = try tensor(t, arena)
        case .graph(let g):
            p.pointee.g = try graph(g, arena)
        case .reference(let name, _):
            p.pointee.ref_attr_name = try arena.cString(name)
        }
        return p
    }

    static func tensor(_ t: OnnxTensor, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__TensorProto> {
        let p = try arena.message(trmg__tensor_proto__init)
        p.pointee.n_dims = t.dims.count
        p.pointee.dims = try arena.array(t.dims.map(Int64.init))
        p.pointee.has_data_type = 1
        p.pointee.data_type = t.dataType
        p.pointee.has_raw_data = 1
        // Little-endian raw_data, as for the graph's initializers.
        switch t.values {
        case .float32(let v): p.pointee.raw_data = try v.withUnsafeBytes { try arena.binary($0) }
        case .float64(let v): p.pointee.raw_data = try v.withUnsafeBytes { try arena.binary($0) }
        case .int64(let v): p.pointee.raw_data = try v.withUnsafeBytes { try arena.binary($0) }
        }
        return p
    }

    static func graph(_ g: OnnxGraph, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__GraphProto> {
        let p = try arena.message(trmg__graph_proto__init)
        p.pointee.name = try arena.cString(g.name)
        let nodes = try g.nodes.map { try node($0, arena) }
        p.pointee.n_node = nodes.count
        p.pointee.node = try arena.pointers(nodes)
        let inputs = try g.inputs.map { try valueInfo($0, arena) }
        p.pointee.n_input = inputs.count
        p.pointee.input = try arena.pointers(inputs)
        let outputs = try g.outputs.map { try valueInfo($0, arena) }
        p.pointee.n_output = outputs.count
        p.pointee.output = try arena.pointers(outputs)
        return p
    }

    /// A tensor type with an element type and no shape (Scan slices have a run-time batch size).
    static func valueInfo(_ v: OnnxValueInfo, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__ValueInfoProto> {
        let tensor = try arena.message(trmg__type_proto__tensor__init)
        tensor.pointee.has_elem_type = 1
        tensor.pointee.elem_type = v.dataType
        let type = try arena.message(trmg__type_proto__init)
        type.pointee.value_case = TRMG__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tensor
        let info = try arena.message(trmg__value_info_proto__init)
        info.pointee.name = try arena.cString(v.name)
        info.pointee.type = type
        return info
    }
}
