import CProtobufC
import Foundation
import TRMGProto
import TRMCore

/// Serialises a `TrmgModel` as an ONNX `ModelProto` with protobuf-c (docs/formats.md §2).
public enum TrmgWriter {
    /// The file's bytes. Verifies the graph first, so an invalid graph is never written.
    public static func serialize(_ model: TrmgModel) throws -> [UInt8] {
        try serialize(model, verify: true)
    }

    /// `verify: false` exists for tests that need malformed files.
    static func serialize(_ model: TrmgModel, verify: Bool) throws -> [UInt8] {
        if verify { try Verifier.verify(model.graph) }
        let arena = CArena()
        let proto = try arena.message(trmg__model_proto__init)
        proto.pointee.has_ir_version = 1
        proto.pointee.ir_version = TrmgFormat.irVersion
        proto.pointee.producer_name = try arena.cString(TrmgFormat.producerName)
        proto.pointee.producer_version = try arena.cString(model.producerVersion)
        let opsets = try [("", TrmgFormat.onnxOpset), (TrmgFormat.domain, TrmgFormat.domainVersion)].map { domain, version in
            let o = try arena.message(trmg__operator_set_id_proto__init)
            o.pointee.domain = try arena.cString(domain)
            o.pointee.has_version = 1
            o.pointee.version = version
            return o
        }
        proto.pointee.n_opset_import = opsets.count
        proto.pointee.opset_import = try arena.pointers(opsets)
        // A malformed graph (tests only) may defeat specialisation; it is then written without bodies.
        let functions = verify ? try OnnxFunctions.generate(for: model.graph)
                               : (try? OnnxFunctions.generate(for: model.graph)) ?? .empty
        proto.pointee.graph = try graphProto(model.graph, overloads: functions.nodeOverloads, arena)
        let meta = try model.metadata.sorted { $0.key < $1.key }.map { try stringEntry($0.key, $0.value, arena) }
        proto.pointee.n_metadata_props = meta.count
        proto.pointee.metadata_props = try arena.pointers(meta)
        let bodies = try functions.functions.map { try OnnxProtoPacking.function($0, arena) }
        proto.pointee.n_functions = bodies.count
        proto.pointee.functions = try arena.pointers(bodies)
        proto.pointee.trm_plan = try planProto(model.plan, arena)

        let size = trmg__model_proto__get_packed_size(proto)
        guard size <= TrmgFormat.maxFileBytes else {
            throw TRMError(.invalidGraph, "the model is \(size) bytes; a .trmg holds at most 2 GiB (large tables need external data)")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBufferPointer { trmg__model_proto__pack(proto, $0.baseAddress) }
        precondition(written == size, "protobuf-c packed \(written) of \(size) bytes")
        return bytes
    }

    /// Writes `model` to `path` atomically.
    public static func write(_ model: TrmgModel, to path: String) throws {
        try AtomicFile.write(try serialize(model), to: path)
    }

    // MARK: pieces

    static func stringEntry(_ key: String, _ value: String, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__StringStringEntryProto> {
        let e = try arena.message(trmg__string_string_entry_proto__init)
        e.pointee.key = try arena.cString(key)
        e.pointee.value = try arena.cString(value)
        return e
    }

    static func valueInfo(_ v: ValueInfo, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__ValueInfoProto> {
        let dims = try v.type.shape.dims.map { d -> UnsafeMutablePointer<Trmg__TensorShapeProto__Dimension> in
            let dim = try arena.message(trmg__tensor_shape_proto__dimension__init)
            switch d {
            case .batch:
                dim.pointee.value_case = TRMG__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                dim.pointee.dim_param = try arena.cString(TrmgFormat.batchDimName)
            case .fixed(let n):
                dim.pointee.value_case = TRMG__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                dim.pointee.dim_value = Int64(n)
            }
            return dim
        }
        let shape = try arena.message(trmg__tensor_shape_proto__init)
        shape.pointee.n_dim = dims.count
        shape.pointee.dim = try arena.pointers(dims)
        let tensor = try arena.message(trmg__type_proto__tensor__init)
        tensor.pointee.has_elem_type = 1
        tensor.pointee.elem_type = v.type.dtype.onnxCode
        tensor.pointee.shape = shape
        let type = try arena.message(trmg__type_proto__init)
        type.pointee.value_case = TRMG__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tensor
        let info = try arena.message(trmg__value_info_proto__init)
        info.pointee.name = try arena.cString(v.name)
        info.pointee.type = type
        return info
    }

    static func tensorProto(_ t: Initializer, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__TensorProto> {
        let p = try arena.message(trmg__tensor_proto__init)
        p.pointee.n_dims = t.dims.count
        p.pointee.dims = try arena.array(t.dims.map(Int64.init))
        p.pointee.has_data_type = 1
        p.pointee.data_type = t.data.dtype.onnxCode
        p.pointee.name = try arena.cString(t.name)
        p.pointee.has_raw_data = 1
        // raw_data is little-endian, which is the in-memory layout on every platform we build for.
        switch t.data {
        case .float32(let v): p.pointee.raw_data = try v.withUnsafeBytes { try arena.binary($0) }
        case .int32(let v): p.pointee.raw_data = try v.withUnsafeBytes { try arena.binary($0) }
        }
        return p
    }

    static func attributeProto(_ name: String, _ value: AttributeValue, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__AttributeProto> {
        let a = try arena.message(trmg__attribute_proto__init)
        a.pointee.name = try arena.cString(name)
        a.pointee.has_type = 1
        switch value {
        case .int(let i):
            a.pointee.type = TRMG__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
            a.pointee.has_i = 1
            a.pointee.i = Int64(i)
        case .float(let f):
            a.pointee.type = TRMG__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
            a.pointee.has_f = 1
            a.pointee.f = f
        case .ints(let v):
            a.pointee.type = TRMG__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
            a.pointee.n_ints = v.count
            a.pointee.ints = try arena.array(v.map(Int64.init))
        case .string(let s):
            a.pointee.type = TRMG__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
            a.pointee.has_s = 1
            a.pointee.s = try Array(s.utf8).withUnsafeBytes { try arena.binary($0) }
        }
        return a
    }

    static func nodeProto(_ n: Node, overload: String?, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__NodeProto> {
        let p = try arena.message(trmg__node_proto__init)
        if let overload { p.pointee.overload = try arena.cString(overload) }
        p.pointee.name = try arena.cString(n.name)
        p.pointee.op_type = try arena.cString(n.op.name)
        p.pointee.domain = try arena.cString(TrmgFormat.domain)
        p.pointee.n_input = n.inputs.count
        p.pointee.input = try arena.cStrings(n.inputs)
        p.pointee.n_output = n.outputs.count
        p.pointee.output = try arena.cStrings(n.outputs)
        let attrs = try n.op.attributes.map { try attributeProto($0.name, $0.value, arena) }
        p.pointee.n_attribute = attrs.count
        p.pointee.attribute = try arena.pointers(attrs)
        return p
    }

    /// `overloads` holds each node's function overload, in node order (empty: none).
    static func graphProto(_ g: Graph, overloads: [String?], _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__GraphProto> {
        let p = try arena.message(trmg__graph_proto__init)
        p.pointee.name = try arena.cString(g.name)
        let nodes = try g.nodes.enumerated().map { i, n in
            try nodeProto(n, overload: i < overloads.count ? overloads[i] : nil, arena)
        }
        p.pointee.n_node = nodes.count
        p.pointee.node = try arena.pointers(nodes)
        let inits = try g.initializers.map { try tensorProto($0, arena) }
        p.pointee.n_initializer = inits.count
        p.pointee.initializer = try arena.pointers(inits)
        let inputs = try g.inputs.map { try valueInfo($0, arena) }
        p.pointee.n_input = inputs.count
        p.pointee.input = try arena.pointers(inputs)
        let outputs = try g.outputs.map { try valueInfo($0, arena) }
        p.pointee.n_output = outputs.count
        p.pointee.output = try arena.pointers(outputs)
        return p
    }

    static func planProto(_ plan: ModelPlan, _ arena: CArena) throws -> UnsafeMutablePointer<Trmg__TrmPlan> {
        let p = try arena.message(trmg__trm_plan__init)
        p.pointee.has_format_version = 1
        p.pointee.format_version = Int32(ModelPlan.formatVersion)
        p.pointee.config_json = try arena.cString(plan.configJSON)
        p.pointee.task_json = try arena.cString(plan.taskJSON)
        p.pointee.has_halt_max_steps = 1
        p.pointee.halt_max_steps = Int64(plan.haltMaxSteps)
        let carry = try plan.carry.map { c -> UnsafeMutablePointer<Trmg__TrmCarryBinding> in
            let b = try arena.message(trmg__trm_carry_binding__init)
            b.pointee.from = try arena.cString(c.from)
            b.pointee.to = try arena.cString(c.to)
            b.pointee.initial = try arena.cString(c.initial)
            return b
        }
        p.pointee.n_carry = carry.count
        p.pointee.carry = try arena.pointers(carry)
        p.pointee.has_arena_bytes_per_sample = 1
        p.pointee.arena_bytes_per_sample = Int64(plan.arenaBytesPerSample)
        p.pointee.has_naive_bytes_per_sample = 1
        p.pointee.naive_bytes_per_sample = Int64(plan.naiveBytesPerSample)
        p.pointee.has_workspace_bytes = 1
        p.pointee.workspace_bytes = Int64(plan.workspaceBytes)
        let placements = try plan.placements.map { v -> UnsafeMutablePointer<Trmg__TrmValuePlacement> in
            let e = try arena.message(trmg__trm_value_placement__init)
            e.pointee.name = try arena.cString(v.name)
            e.pointee.has_offset = 1
            e.pointee.offset = Int64(v.offset)
            e.pointee.has_bytes_per_sample = 1
            e.pointee.bytes_per_sample = Int64(v.bytesPerSample)
            return e
        }
        p.pointee.n_placement = placements.count
        p.pointee.placement = try arena.pointers(placements)
        p.pointee.n_identifiers = plan.identifiers.count
        p.pointee.identifiers = try arena.cStrings(plan.identifiers)
        return p
    }
}
