import CProtobufC
import Foundation
import TRMGProto
import TRMCore

/// Reads `.trmg` files: protobuf-c unpacks the bytes (its allocations are bounded by the input
/// size), then every field is validated and the graph verified. A malformed file gives a
/// `TRMError(.malformedFile)` naming what is wrong, never a crash.
public enum TrmgReader {
    /// Reads and validates the file at `path`, mapping its external-data sidecar if it has one
    /// (docs/formats.md §2.5): external initializers are `.mapped` data, read in place.
    public static func read(path: String) throws -> TrmgModel {
        let bytes = try AtomicFile.read(path, limit: TrmgFormat.maxFileBytes)
        do {
            return try parse(bytes, externalDataBeside: path)
        } catch let e as TRMError {
            throw TRMError(e.kind, "\(path): \(e.message)")
        }
    }

    /// Parses and validates a `.trmg` from memory. A model with external data cannot be read this
    /// way (bytes do not say where the sidecar is): that is an `.io` error that says to open the path.
    public static func parse(_ bytes: [UInt8]) throws -> TrmgModel {
        try parse(bytes, externalDataBeside: nil)
    }

    /// Parses `bytes` read from the file `path`, whose sidecar sits beside it (links followed).
    public static func parse(_ bytes: [UInt8], externalDataBeside path: String?) throws -> TrmgModel {
        guard !bytes.isEmpty else { throw TRMError(.malformedFile, "empty file, not a .trmg model") }
        guard bytes.count <= TrmgFormat.maxFileBytes else { throw TRMError(.malformedFile, "file too large") }
        guard let proto = bytes.withUnsafeBufferPointer({ trmg__model_proto__unpack(nil, $0.count, $0.baseAddress) }) else {
            throw TRMError(.malformedFile, "not a valid ONNX/.trmg protobuf (truncated or corrupt)")
        }
        defer { trmg__model_proto__free_unpacked(proto, nil) }
        return try convert(proto.pointee, modelPath: path)
    }

    static func convert(_ m: Trmg__ModelProto, modelPath: String? = nil) throws -> TrmgModel {
        guard m.has_ir_version != 0, m.ir_version >= 7, m.ir_version <= TrmgFormat.irVersion else {
            throw TRMError(.malformedFile, "unsupported ONNX ir_version \(m.ir_version) (expected \(TrmgFormat.irVersion))")
        }
        let opsets = try CRead.messages(m.opset_import, m.n_opset_import, "opset_import").map {
            (try CRead.string($0.pointee.domain) ?? "", $0.pointee.version)
        }
        guard opsets.contains(where: { $0.0 == TrmgFormat.domain && $0.1 == TrmgFormat.domainVersion }) else {
            throw TRMError(.malformedFile, "no '\(TrmgFormat.domain)' version \(TrmgFormat.domainVersion) opset import: not a trm model")
        }
        guard let g = m.graph else { throw TRMError(.malformedFile, "the model has no graph") }
        guard let planProto = m.trm_plan else { throw TRMError(.malformedFile, "no TrmPlan (field 99): not a trm-compile output") }
        var metadata: [String: String] = [:]
        for e in try CRead.messages(m.metadata_props, m.n_metadata_props, "metadata_props") {
            metadata[try CRead.string(e.pointee.key) ?? ""] = try CRead.string(e.pointee.value) ?? ""
        }
        // The sidecar's identity is part of the file's external data, not of the model.
        let sidecar = Sidecar(modelPath: modelPath, identity: metadata.removeValue(forKey: ExternalData.identityKey))
        let (graph, batchedReshapes) = try graph(g.pointee, sidecar)
        let types = try Verifier.verify(graph)
        // A standard Reshape's shape starts with 0 ("the batch size") exactly when its input is batched.
        for (i, batched) in batchedReshapes where types[graph.nodes[i].inputs[0]]?.shape.isBatched != batched {
            throw TRMError(.malformedFile, "node '\(graph.nodes[i].name)': its shape's leading 0 does not match its input's batch axis")
        }
        let plan = try plan(planProto.pointee)
        return TrmgModel(
            graph: graph, plan: plan, metadata: metadata,
            producerVersion: try CRead.string(m.producer_version) ?? "")
    }

    /// The graph, and for each Reshape read from the standard domain whether its input must be
    /// batched (checked once the types are known).
    static func graph(_ g: Trmg__GraphProto, _ sidecar: Sidecar) throws -> (Graph, [(Int, Bool)]) {
        let inputs = try CRead.messages(g.input, g.n_input, "graph input").map { try valueInfo($0.pointee) }
        let outputs = try CRead.messages(g.output, g.n_output, "graph output").map { try valueInfo($0.pointee) }
        // int64 tensors are the constant operands of standard ops (OnnxNodeForm), not weights.
        var initializers: [Initializer] = [], operands: [String: [Int]] = [:]
        for t in try CRead.messages(g.initializer, g.n_initializer, "initializer") {
            if t.pointee.has_data_type != 0, t.pointee.data_type == OnnxNodeForm.operandDataType {
                let (name, values) = try operand(t.pointee)
                guard operands.updateValue(values, forKey: name) == nil else {
                    throw TRMError(.malformedFile, "initializer '\(name)' appears twice")
                }
            } else {
                initializers.append(try tensor(t.pointee, sidecar))
            }
        }
        guard g.n_node <= ModelLimits.maxStepNodes else {
            throw TRMError(.malformedFile, "the graph has \(g.n_node) nodes, over the limit of \(ModelLimits.maxStepNodes)")
        }
        var used = Set<String>(), batchedReshapes: [(Int, Bool)] = []
        let nodes = try CRead.messages(g.node, g.n_node, "node").enumerated().map { i, n in
            let (node, batched) = try node(n.pointee, index: i) { name in
                used.insert(name)
                return operands[name]
            }
            if let batched { batchedReshapes.append((i, batched)) }
            return node
        }
        if let unused = operands.keys.sorted().first(where: { !used.contains($0) }) {
            throw TRMError(.malformedFile, "initializer '\(unused)': an int64 tensor that no standard op reads")
        }
        let graph = Graph(
            name: try CRead.string(g.name) ?? "", inputs: inputs, outputs: outputs,
            initializers: initializers, nodes: nodes)
        return (graph, batchedReshapes)
    }

    /// An int64 operand: a short vector in `raw_data`.
    static func operand(_ t: Trmg__TensorProto) throws -> (String, [Int]) {
        let name = try CRead.string(t.name) ?? ""
        let dims = try CRead.array(t.dims, t.n_dims)
        guard dims.count == 1, dims[0] >= 0, dims[0] <= 64, t.has_raw_data != 0, t.has_data_location == 0,
            t.raw_data.len == Int(dims[0]) * 8, dims[0] == 0 || t.raw_data.data != nil
        else { throw TRMError(.malformedFile, "initializer '\(name)': an int64 operand must be 0 to 64 values in raw_data") }
        let raw = UnsafeRawBufferPointer(start: t.raw_data.data, count: t.raw_data.len)
        let values = try (0..<Int(dims[0])).map { i -> Int in
            let v = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
            guard v >= -Int64(Op.maxDim), v <= Int64(Op.maxDim) else {
                throw TRMError(.malformedFile, "initializer '\(name)': value \(v) out of range")
            }
            return Int(v)
        }
        return (name, values)
    }

    static func valueInfo(_ v: Trmg__ValueInfoProto) throws -> ValueInfo {
        let name = try CRead.string(v.name) ?? ""
        func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "value '\(name)': \(why)") }
        guard let type = v.type, type.pointee.value_case == TRMG__TYPE_PROTO__VALUE_TENSOR_TYPE,
            let tensor = type.pointee.tensor_type
        else { throw fail("not a tensor type") }
        guard tensor.pointee.has_elem_type != 0, let dtype = DType(onnxCode: tensor.pointee.elem_type) else {
            throw fail("unsupported element type \(tensor.pointee.elem_type)")
        }
        guard let shape = tensor.pointee.shape else { throw fail("no shape") }
        let dims = try CRead.messages(shape.pointee.dim, shape.pointee.n_dim, "dims").map { d -> Dim in
            switch d.pointee.value_case {
            case TRMG__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE:
                guard d.pointee.dim_value > 0, d.pointee.dim_value <= Op.maxDim else { throw fail("dimension \(d.pointee.dim_value)") }
                return .fixed(Int(d.pointee.dim_value))
            case TRMG__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM:
                guard try CRead.string(d.pointee.dim_param) == TrmgFormat.batchDimName else { throw fail("unknown symbolic dimension") }
                return .batch
            default:
                throw fail("dimension without a value")
            }
        }
        return ValueInfo(name, TensorType(dtype, Shape(dims)))
    }

    static func tensor(_ t: Trmg__TensorProto, _ sidecar: Sidecar) throws -> Initializer {
        let name = try CRead.string(t.name) ?? ""
        func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "initializer '\(name)': \(why)") }
        let dims = try CRead.array(t.dims, t.n_dims)
        guard dims.allSatisfy({ $0 > 0 && $0 <= Op.maxDim }) else { throw fail("bad dims \(dims)") }
        guard let count = Shape(fixed: dims.map { Int($0) }).elementsPerSample, count <= Verifier.maxElements else {
            throw fail("too many elements")
        }
        guard t.has_data_type != 0, let dtype = DType(onnxCode: t.data_type) else { throw fail("unsupported data type \(t.data_type)") }
        if t.has_data_location != 0, t.data_location == TRMG__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
            guard t.has_raw_data == 0 else { throw fail("both raw_data and external data") }
            let bytes = try sidecar.bytes(t, length: count * dtype.byteSize, fail)
            return Initializer(name: name, dims: dims.map { Int($0) }, data: .mapped(dtype, bytes))
        }
        guard t.has_data_location == 0 || t.data_location == TRMG__TENSOR_PROTO__DATA_LOCATION__DEFAULT else {
            throw fail("unknown data_location \(t.data_location.rawValue)")
        }
        guard t.has_raw_data != 0 else { throw fail("no raw_data") }
        let raw = t.raw_data
        guard raw.len == count * dtype.byteSize, count == 0 || raw.data != nil else {
            throw fail("raw_data holds \(raw.len) bytes, dims \(dims) need \(count * dtype.byteSize)")
        }
        let bytes = UnsafeRawBufferPointer(start: raw.data, count: raw.len)
        let data: TensorData
        switch dtype {
        case .float32:
            data = .float32(
                [Float](unsafeUninitializedCapacity: count) { b, n in
                    UnsafeMutableRawBufferPointer(b).copyMemory(from: bytes); n = count
                })
        case .int32:
            data = .int32(
                [Int32](unsafeUninitializedCapacity: count) { b, n in
                    UnsafeMutableRawBufferPointer(b).copyMemory(from: bytes); n = count
                })
        }
        return Initializer(name: name, dims: dims.map { Int($0) }, data: data)
    }

    /// A node and, for a standard Reshape, whether its input must be batched. `operand` gives the
    /// int64 operand of a name (nil: not one).
    static func node(_ n: Trmg__NodeProto, index: Int, operand: (String) -> [Int]?) throws -> (Node, Bool?) {
        let name = try CRead.string(n.name) ?? "#\(index)"
        func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "node '\(name)': \(why)") }
        var attributes: [String: AttributeValue] = [:]
        for a in try CRead.messages(n.attribute, n.n_attribute, "attribute") {
            let key = try CRead.string(a.pointee.name) ?? ""
            guard attributes[key] == nil else { throw fail("attribute '\(key)' appears twice") }
            attributes[key] = try attribute(a.pointee, fail)
        }
        let decoded: (op: Op, inputs: [String], batched: Bool?)
        do {
            decoded = try OnnxNodeForm.op(
                domain: try CRead.string(n.domain) ?? "", opType: try CRead.string(n.op_type) ?? "", attributes: attributes,
                inputs: try CRead.strings(n.input, n.n_input, "node inputs"), operand: operand)
        } catch let e as TRMError {
            throw fail(e.message)
        }
        let node = Node(name, decoded.op, inputs: decoded.inputs, outputs: try CRead.strings(n.output, n.n_output, "node outputs"))
        return (node, decoded.batched)
    }

    static func attribute(_ a: Trmg__AttributeProto, _ fail: (String) -> TRMError) throws -> AttributeValue {
        guard a.has_type != 0 else { throw fail("attribute without a type") }
        switch a.type {
        case TRMG__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
            guard a.has_i != 0, let i = Int(exactly: a.i) else { throw fail("bad int attribute") }
            return .int(i)
        case TRMG__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
            guard a.has_f != 0 else { throw fail("bad float attribute") }
            return .float(a.f)
        case TRMG__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            guard a.n_ints <= 64 else { throw fail("ints attribute too long") }
            return .ints(try CRead.array(a.ints, a.n_ints).map { Int($0) })
        case TRMG__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
            guard a.has_s != 0 else { throw fail("bad string attribute") }
            let bytes = UnsafeRawBufferPointer(start: a.s.data, count: a.s.data == nil ? 0 : a.s.len)
            return .string(String(decoding: bytes, as: UTF8.self))
        default:
            throw fail("unsupported attribute type \(a.type.rawValue)")
        }
    }

    static func plan(_ p: Trmg__TrmPlan) throws -> ModelPlan {
        func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "TrmPlan: \(why)") }
        guard p.has_format_version != 0, ModelPlan.readableVersions.contains(Int(p.format_version)) else {
            throw fail("unsupported plan version \(p.format_version)")
        }
        func count(_ has: protobuf_c_boolean, _ v: Int64, _ what: String) throws -> Int {
            guard has != 0, v >= 0, v <= Int64(Verifier.maxElements) * 4 else { throw fail("\(what) \(v) is out of range") }
            return Int(v)
        }
        let carry = try CRead.messages(p.carry, p.n_carry, "carry").map {
            let values = try CRead.array($0.pointee.initial_values, $0.pointee.n_initial_values)
            guard p.format_version >= 2 || values.isEmpty else { throw fail("initial values in a version 1 plan") }
            return CarryBinding(
                from: try CRead.string($0.pointee.from) ?? "", to: try CRead.string($0.pointee.to) ?? "",
                initial: try CRead.string($0.pointee.initial) ?? "", initialValues: values.isEmpty ? nil : values)
        }
        let placements = try CRead.messages(p.placement, p.n_placement, "placement").map {
            ValuePlacement(
                name: try CRead.string($0.pointee.name) ?? "",
                offset: try count($0.pointee.has_offset, $0.pointee.offset, "offset"),
                bytesPerSample: try count($0.pointee.has_bytes_per_sample, $0.pointee.bytes_per_sample, "value size"))
        }
        return ModelPlan(
            configJSON: try CRead.string(p.config_json) ?? "{}", taskJSON: try CRead.string(p.task_json) ?? "{}",
            haltMaxSteps: try count(p.has_halt_max_steps, p.halt_max_steps, "halt_max_steps"),
            carry: carry,
            arenaBytesPerSample: try count(p.has_arena_bytes_per_sample, p.arena_bytes_per_sample, "arena size"),
            naiveBytesPerSample: try count(p.has_naive_bytes_per_sample, p.naive_bytes_per_sample, "naive size"),
            workspaceBytes: try count(p.has_workspace_bytes, p.workspace_bytes, "workspace size"),
            placements: placements,
            identifiers: try CRead.strings(p.identifiers, p.n_identifiers, "identifiers"))
    }
}
