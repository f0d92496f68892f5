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
        proto.pointee.graph = try graphProto(model.graph, overloads: functions.nodeOverloads, packer)
        try packer.set(
            proto, \.n_metadata_props, \.metadata_props,
            model.metadata.sorted { $0.key < $1.key }.map { try packer.entry($0.key, $0.value) })
        try packer.set(proto, \.n_functions, \.functions, functions.functions.map(packer.function))
        proto.pointee.trm_plan = try planProto(model.plan, packer)

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

    /// The step graph's `GraphProto`; `overloads` holds each node's function overload, in node
    /// order (empty: none).
    static func graphProto(_ g: Graph, overloads: [String?], _ packer: ProtoPacker) throws -> UnsafeMutablePointer<Trmg__GraphProto> {
        let nodes = try g.nodes.enumerated().map { i, n in
            try packer.node(
                name: n.name, opType: n.op.name, domain: TrmgFormat.domain, overload: i < overloads.count ? overloads[i] : nil,
                inputs: n.inputs, outputs: n.outputs, attributes: n.op.attributes.map { OnnxAttribute($0.name, $0.value.onnx) })
        }
        let initializers = try g.initializers.map { t in
            let tensor = { (raw: UnsafeRawBufferPointer) in
                try packer.tensor(name: t.name, dims: t.dims, dataType: t.data.dtype.onnxCode, raw: raw)
            }
            switch t.data {
            case .float32(let v): return try v.withUnsafeBytes(tensor)
            case .int32(let v): return try v.withUnsafeBytes(tensor)
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
            name: g.name, nodes: nodes, initializers: initializers, inputs: g.inputs.map(info), outputs: g.outputs.map(info))
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
