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

    /// `verify: false` exists for tests that need malformed files. The initializers of `external`
    /// are written as references to its sidecar, the others inline.
    static func serialize(_ model: TrmgModel, verify: Bool, external: ExternalData? = nil) throws -> [UInt8] {
        if verify { try Verifier.verify(model.graph) }
        let arena = CArena(), packer = ProtoPacker(arena: arena)
        let proto = try arena.message(trmg__model_proto__init)
        proto.pointee.has_ir_version = 1
        proto.pointee.ir_version = TrmgFormat.irVersion
        proto.pointee.producer_name = try arena.cString(TrmgFormat.producerName)
        proto.pointee.producer_version = try arena.cString(model.producerVersion)
        try packer.set(
            proto, \.n_opset_import, \.opset_import,
            [packer.opset("", TrmgFormat.onnxOpset), packer.opset(TrmgFormat.domain, TrmgFormat.domainVersion)])
        // A malformed graph (tests only) may defeat specialisation; it is then written without bodies.
        let functions =
            verify
            ? try OnnxFunctions.generate(for: model.graph)
            : (try? OnnxFunctions.generate(for: model.graph)) ?? .empty
        proto.pointee.graph = try graphProto(model.graph, overloads: functions.nodeOverloads, external: external, packer)
        let metadata = external == nil ? model.metadata.filter { $0.key != ExternalData.identityKey } : model.metadata
        try packer.set(
            proto, \.n_metadata_props, \.metadata_props,
            metadata.sorted { $0.key < $1.key }.map { try packer.entry($0.key, $0.value) })
        try packer.set(proto, \.n_functions, \.functions, functions.functions.map(packer.function))
        proto.pointee.trm_plan = try planProto(model.plan, packer)

        let size = trmg__model_proto__get_packed_size(proto)
        guard size <= TrmgFormat.maxFileBytes else {
            throw TRMError(
                .invalidGraph,
                "the model is \(size) bytes; a .trmg holds at most 2 GiB: write it to a regular file, where initializers of at least the external-data threshold go to a sidecar, or lower that threshold"
            )
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBufferPointer { trmg__model_proto__pack(proto, $0.baseAddress) }
        precondition(written == size, "protobuf-c packed \(written) of \(size) bytes")
        return bytes
    }

    /// Writes `model` to `path` atomically. When `path` is a regular file (or a new one) and some
    /// initializers hold at least `externalThreshold` bytes, those go to the sidecar
    /// `sidecarPath(for: path)` (docs/formats.md §2.5) and both files are replaced together (nil
    /// or a device, FIFO or descriptor output: everything inline, one self-contained file).
    /// Returns the sidecar's path when one was written.
    @discardableResult
    public static func write(_ model: TrmgModel, to path: String, externalThreshold: Int? = ExternalData.defaultThreshold) throws
        -> String?
    {
        guard let externalThreshold, let target = try OutputFile.regularFileTarget(of: path),
            let layout = ExternalData(
                graph: model.graph, threshold: externalThreshold, location: OutputFile.fileName(of: target) + ".data")
        else {
            try AtomicFile.write(try serialize(model), to: path)
            return nil
        }
        try Verifier.verify(model.graph)
        let identity = ExternalData.identity(model.graph, layout.entries)
        var stamped = model
        stamped.metadata[ExternalData.identityKey] = ExternalData.identityText(identity)
        let bytes = try serialize(stamped, verify: true, external: layout)
        let header = ExternalData.header(identity: identity)
        let external = model.graph.initializers.filter { layout.entries[$0.name] != nil }
        let sidecar = OutputFile.sibling(of: target, named: layout.location)
        try header.withUnsafeBytes { head in
            try withSidecarChunks(external[...], layout, [head]) { chunks in
                try bytes.withUnsafeBytes { trmg in
                    // The sidecar first: the .trmg's rename commits the pair.
                    try OutputFile.replaceTogether([(sidecar, chunks), (target, [trmg])])
                }
            }
        }
        return sidecar
    }

    /// Where `write` puts the sidecar of a model written to `path` (when it has one).
    public static func sidecarPath(for path: String) throws -> String? {
        guard let target = try OutputFile.regularFileTarget(of: path) else { return nil }
        return OutputFile.sibling(of: target, named: OutputFile.fileName(of: target) + ".data")
    }

    private static let zeros = [UInt8](repeating: 0, count: ExternalData.alignment)

    /// Calls `body` with the sidecar's bytes as chunks: `done` (the header so far), then each
    /// tensor of `tensors` after the zero padding that puts it at its offset. No tensor is copied.
    private static func withSidecarChunks(
        _ tensors: ArraySlice<Initializer>, _ layout: ExternalData, _ done: [UnsafeRawBufferPointer],
        _ body: ([UnsafeRawBufferPointer]) throws -> Void
    ) throws {
        guard let first = tensors.first else { return try body(done) }
        let position = done.reduce(0) { $0 + $1.count }
        let pad = layout.entries[first.name]!.offset - position
        try zeros.withUnsafeBytes { z in
            try first.data.withUnsafeBytes { raw in
                try withSidecarChunks(tensors.dropFirst(), layout, done + [UnsafeRawBufferPointer(rebasing: z[0..<pad]), raw], body)
            }
        }
    }

    // MARK: pieces

    /// The step graph's `GraphProto`; `overloads` holds each node's function overload, in node
    /// order (empty: none). Nodes take their `OnnxNodeForm`; the int64 operands of standard ops
    /// follow the graph's initializers.
    static func graphProto(
        _ g: Graph, overloads: [String?], external: ExternalData? = nil, _ packer: ProtoPacker
    ) throws -> UnsafeMutablePointer<Trmg__GraphProto> {
        let types = OnnxFunctions.lenientTypes(g)
        var operands: [UnsafeMutablePointer<Trmg__TensorProto>] = []
        // ONNX names each value once: an operand's name must be new.
        var names = Set(g.inputs.map(\.name) + g.initializers.map(\.name) + g.nodes.flatMap(\.outputs))
        let nodes = try g.nodes.enumerated().map { i, n in
            let form = OnnxNodeForm(n.op, batched: n.inputs.first.flatMap { types[$0] }?.shape.isBatched ?? false)
            for case let o? in form.operands {
                let name = "\(n.name).\(o.name)", values = o.values.map(Int64.init)
                guard names.insert(name).inserted else {
                    throw TRMError(.invalidGraph, "node '\(n.name)': its operand '\(name)' has the name of another value")
                }
                operands.append(
                    try values.withUnsafeBytes { raw in
                        try packer.tensor(name: name, dims: [values.count], dataType: OnnxNodeForm.operandDataType, raw: raw)
                    })
            }
            return try packer.node(
                name: n.name, opType: form.opType, domain: form.domain, overload: i < overloads.count ? overloads[i] : nil,
                inputs: form.inputs(of: n), outputs: n.outputs, attributes: form.attributes)
        }
        let weights = try g.initializers.map { t in
            if let external, let e = external.entries[t.name] {
                return try packer.externalTensor(
                    name: t.name, dims: t.dims, dataType: t.data.dtype.onnxCode, location: external.location, offset: e.offset,
                    length: e.length)
            }
            return try t.data.withUnsafeBytes { raw in
                try packer.tensor(name: t.name, dims: t.dims, dataType: t.data.dtype.onnxCode, raw: raw)
            }
        }
        let info = { (v: ValueInfo) in
            try packer.valueInfo(
                v.name, elemType: v.type.dtype.onnxCode,
                shape: v.type.shape.dims.map { d -> ProtoPacker.Dimension in
                    switch d {
                    case .batch: return .param(TrmgFormat.batchDimName)
                    case .fixed(let n): return .value(n)
                    }
                })
        }
        return try packer.graph(
            name: g.name, nodes: nodes, initializers: weights + operands, inputs: g.inputs.map(info), outputs: g.outputs.map(info))
    }

    static func planProto(_ plan: ModelPlan, _ packer: ProtoPacker) throws -> UnsafeMutablePointer<Trmg__TrmPlan> {
        let arena = packer.arena, p = try arena.message(trmg__trm_plan__init)
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
            if let values = c.initialValues {
                b.pointee.n_initial_values = values.count
                b.pointee.initial_values = try arena.array(values)
            }
            return b
        }
        try packer.set(p, \.n_carry, \.carry, carry)
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
        try packer.set(p, \.n_placement, \.placement, placements)
        try packer.set(p, \.n_identifiers, \.identifiers, plan.identifiers)
        return p
    }
}

extension AttributeValue {
    /// The value as an ONNX attribute value (the writer packs both kinds of node alike).
    var onnx: OnnxAttributeValue {
        switch self {
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .ints(let v): return .ints(v)
        case .string(let s): return .string(s)
        }
    }
}
