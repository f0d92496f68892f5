import CProtobufC
import Foundation
import TRMGProto

/// Builds protobuf-c message trees for packing, in a `CArena` that owns every allocation: the one
/// packer of a `.trmg`, for the step graph and its plan (`TrmgWriter`) and for the `ai.trm`
/// function bodies (`OnnxFunction` values). Optional fields are set only when given. Field order in
/// the packed bytes is protobuf-c's (by field number), which is also what the onnx Python package
/// writes, so `onnx.load(f).SerializeToString()` reproduces the file.
struct ProtoPacker {
    let arena: CArena

    /// A dimension of a `TensorShapeProto`: symbolic (`dim_param`) or fixed (`dim_value`).
    enum Dimension {
        case param(String)
        case value(Int)
    }

    /// Sets repeated string field `field` of message `m`, and its count, to `values`.
    func set<M>(
        _ m: UnsafeMutablePointer<M>, _ count: WritableKeyPath<M, Int>,
        _ field: WritableKeyPath<M, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>, _ values: [String]
    ) throws {
        m.pointee[keyPath: count] = values.count
        m.pointee[keyPath: field] = try arena.cStrings(values)
    }

    /// Sets repeated message field `field` of message `m`, and its count, to `items`.
    func set<M, T>(
        _ m: UnsafeMutablePointer<M>, _ count: WritableKeyPath<M, Int>,
        _ field: WritableKeyPath<M, UnsafeMutablePointer<UnsafeMutablePointer<T>?>?>, _ items: [UnsafeMutablePointer<T>]
    ) throws {
        m.pointee[keyPath: count] = items.count
        m.pointee[keyPath: field] = try arena.pointers(items)
    }

    /// An `OperatorSetIdProto`.
    func opset(_ domain: String, _ version: Int64) throws -> UnsafeMutablePointer<Trmg__OperatorSetIdProto> {
        let m = try arena.message(trmg__operator_set_id_proto__init)
        m.pointee.domain = try arena.cString(domain)
        m.pointee.has_version = 1
        m.pointee.version = version
        return m
    }

    /// A `StringStringEntryProto` (a metadata property).
    func entry(_ key: String, _ value: String) throws -> UnsafeMutablePointer<Trmg__StringStringEntryProto> {
        let e = try arena.message(trmg__string_string_entry_proto__init)
        e.pointee.key = try arena.cString(key)
        e.pointee.value = try arena.cString(value)
        return e
    }

    /// A `NodeProto`. An empty `domain` (the standard one) leaves the field unset, as onnx.helper does.
    func node(
        name: String? = nil, opType: String, domain: String, overload: String? = nil, inputs: [String], outputs: [String],
        attributes: [OnnxAttribute]
    ) throws -> UnsafeMutablePointer<Trmg__NodeProto> {
        let p = try arena.message(trmg__node_proto__init)
        if let name { p.pointee.name = try arena.cString(name) }
        p.pointee.op_type = try arena.cString(opType)
        if !domain.isEmpty { p.pointee.domain = try arena.cString(domain) }
        if let overload { p.pointee.overload = try arena.cString(overload) }
        try set(p, \.n_input, \.input, inputs)
        try set(p, \.n_output, \.output, outputs)
        try set(p, \.n_attribute, \.attribute, attributes.map(attribute))
        return p
    }

    /// An `AttributeProto`; its `type` is the value's kind (for a reference, the referenced one's).
    func attribute(_ a: OnnxAttribute) throws -> UnsafeMutablePointer<Trmg__AttributeProto> {
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
            p.pointee.t = try tensor(t)
        case .graph(let g):
            p.pointee.g = try graph(g)
        case .reference(let name, _):
            p.pointee.ref_attr_name = try arena.cString(name)
        }
        return p
    }

    /// A `TensorProto` of ONNX type `dataType` whose `raw_data` is `raw`: little-endian, which is
    /// the in-memory layout on every platform we build for. A nil `name` leaves the field unset.
    func tensor(name: String? = nil, dims: [Int], dataType: Int32, raw: UnsafeRawBufferPointer) throws -> UnsafeMutablePointer<
        Trmg__TensorProto
    > {
        let p = try arena.message(trmg__tensor_proto__init)
        p.pointee.n_dims = dims.count
        p.pointee.dims = try arena.array(dims.map(Int64.init))
        p.pointee.has_data_type = 1
        p.pointee.data_type = dataType
        if let name { p.pointee.name = try arena.cString(name) }
        p.pointee.has_raw_data = 1
        p.pointee.raw_data = try arena.binary(raw)
        return p
    }

    /// A `TensorProto` whose data is `length` bytes at `offset` of the file `location` beside the
    /// model (`data_location` EXTERNAL, docs/formats.md §2.5).
    func externalTensor(name: String, dims: [Int], dataType: Int32, location: String, offset: Int, length: Int) throws
        -> UnsafeMutablePointer<Trmg__TensorProto>
    {
        let p = try arena.message(trmg__tensor_proto__init)
        p.pointee.n_dims = dims.count
        p.pointee.dims = try arena.array(dims.map(Int64.init))
        p.pointee.has_data_type = 1
        p.pointee.data_type = dataType
        p.pointee.name = try arena.cString(name)
        try set(
            p, \.n_external_data, \.external_data,
            [entry("location", location), entry("offset", String(offset)), entry("length", String(length))])
        p.pointee.has_data_location = 1
        p.pointee.data_location = TRMG__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
        return p
    }

    /// A `ValueInfoProto` of a tensor of ONNX element type `elemType`. A nil `shape` leaves the shape
    /// unset (Scan slices have a run-time batch size); an empty one is a scalar.
    func valueInfo(_ name: String, elemType: Int32, shape: [Dimension]?) throws -> UnsafeMutablePointer<Trmg__ValueInfoProto> {
        let tensor = try arena.message(trmg__type_proto__tensor__init)
        tensor.pointee.has_elem_type = 1
        tensor.pointee.elem_type = elemType
        if let shape {
            let dims = try shape.map { d -> UnsafeMutablePointer<Trmg__TensorShapeProto__Dimension> in
                let dim = try arena.message(trmg__tensor_shape_proto__dimension__init)
                switch d {
                case .param(let name):
                    dim.pointee.value_case = TRMG__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    dim.pointee.dim_param = try arena.cString(name)
                case .value(let n):
                    dim.pointee.value_case = TRMG__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    dim.pointee.dim_value = Int64(n)
                }
                return dim
            }
            let s = try arena.message(trmg__tensor_shape_proto__init)
            try set(s, \.n_dim, \.dim, dims)
            tensor.pointee.shape = s
        }
        let type = try arena.message(trmg__type_proto__init)
        type.pointee.value_case = TRMG__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tensor
        let info = try arena.message(trmg__value_info_proto__init)
        info.pointee.name = try arena.cString(name)
        info.pointee.type = type
        return info
    }

    /// A `GraphProto` of already built messages.
    func graph(
        name: String, nodes: [UnsafeMutablePointer<Trmg__NodeProto>], initializers: [UnsafeMutablePointer<Trmg__TensorProto>] = [],
        inputs: [UnsafeMutablePointer<Trmg__ValueInfoProto>], outputs: [UnsafeMutablePointer<Trmg__ValueInfoProto>]
    ) throws
        -> UnsafeMutablePointer<Trmg__GraphProto>
    {
        let p = try arena.message(trmg__graph_proto__init)
        p.pointee.name = try arena.cString(name)
        try set(p, \.n_node, \.node, nodes)
        try set(p, \.n_initializer, \.initializer, initializers)
        try set(p, \.n_input, \.input, inputs)
        try set(p, \.n_output, \.output, outputs)
        return p
    }

    // MARK: function bodies

    /// The `FunctionProto` of a body.
    func function(_ f: OnnxFunction) throws -> UnsafeMutablePointer<Trmg__FunctionProto> {
        let p = try arena.message(trmg__function_proto__init)
        p.pointee.name = try arena.cString(f.name)
        p.pointee.domain = try arena.cString(f.domain)
        if let overload = f.overload { p.pointee.overload = try arena.cString(overload) }
        try set(p, \.n_input, \.input, f.inputs)
        try set(p, \.n_output, \.output, f.outputs)
        try set(p, \.n_attribute, \.attribute, f.attributes)
        try set(p, \.n_node, \.node, f.nodes.map(node))
        try set(p, \.n_opset_import, \.opset_import, f.opsetImports.map { try opset($0.domain, $0.version) })
        return p
    }

    /// The `NodeProto` of a body node.
    func node(_ n: OnnxNode) throws -> UnsafeMutablePointer<Trmg__NodeProto> {
        try node(name: n.name, opType: n.opType, domain: n.domain, inputs: n.inputs, outputs: n.outputs, attributes: n.attributes)
    }

    /// The `TensorProto` of a body constant (no name).
    func tensor(_ t: OnnxTensor) throws -> UnsafeMutablePointer<Trmg__TensorProto> {
        let pack = { (raw: UnsafeRawBufferPointer) in try tensor(dims: t.dims, dataType: t.dataType, raw: raw) }
        switch t.values {
        case .float32(let v): return try v.withUnsafeBytes(pack)
        case .float64(let v): return try v.withUnsafeBytes(pack)
        case .int64(let v): return try v.withUnsafeBytes(pack)
        }
    }

    /// The `GraphProto` of a subgraph (no initializers; shapeless value infos).
    func graph(_ g: OnnxGraph) throws -> UnsafeMutablePointer<Trmg__GraphProto> {
        let info = { (v: OnnxValueInfo) in try valueInfo(v.name, elemType: v.dataType, shape: nil) }
        return try graph(name: g.name, nodes: g.nodes.map(node), inputs: g.inputs.map(info), outputs: g.outputs.map(info))
    }
}
