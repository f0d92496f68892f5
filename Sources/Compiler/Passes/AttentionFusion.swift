import GraphIR

/// Attention(RoPE(Slice q), RoPE(Slice k), Slice v) over one qkv projection -> FusedAttention(qkv,
/// cos, sin): the split, the rotation and the attention run per head from the qkv buffer, and no
/// S×S tensor is placed in the arena. Without RoPE, identity tables (cos 1, sin 0) are added.
public struct AttentionFusion: GraphPass {
    public let name = "attention-fusion"
    public init() {}

    public func run(_ graph: consuming Graph) throws -> Graph {
        let graph = copy graph
        let index = GraphIndex(graph)
        let types = try Verifier.verify(graph)
        var rewrite = Rewrite()
        var g = graph
        for node in graph.nodes {
            guard case .attention(let heads, let hd) = node.op else { continue }
            let width = heads * hd
            var tables: (String, String)?
            var parts: [(qkv: String, start: Int, consumed: [String])] = []
            for (slot, value) in node.inputs.enumerated() {
                var v = value, consumed: [String] = []
                if slot < 2, let rope = index.soleProducer(v, .rope), rope.op == .rope(heads: heads, headDim: hd) {
                    if let t = tables, t != (rope.inputs[1], rope.inputs[2]) { break }
                    tables = (rope.inputs[1], rope.inputs[2])
                    consumed.append(rope.name)
                    v = rope.inputs[0]
                }
                guard let slice = index.soleProducer(v, .slice), case .slice(2, let start, let end) = slice.op,
                    end - start == width
                else { break }
                consumed.append(slice.name)
                parts.append((slice.inputs[0], start, consumed))
            }
            let ropeCount = parts.prefix(2).filter { $0.consumed.count == 2 }.count
            guard parts.count == 3, Set(parts.map(\.qkv)).count == 1, parts.map(\.start) == [0, width, 2 * width],
                ropeCount == 0 || ropeCount == 2,
                let qkvShape = types[parts[0].qkv]?.shape, qkvShape.isBatched, qkvShape.rank == 3,
                qkvShape.sampleDims.last == 3 * width
            else { continue }
            if tables == nil { tables = identityTables(&g, seq: qkvShape.sampleDims[0], headDim: hd) }
            for p in parts { rewrite.removed.formUnion(p.consumed) }
            rewrite.replacements[node.name] = Node(
                NodeNames.replacing(node.name, role: "fused_attention"), .fusedAttention(heads: heads, headDim: hd),
                inputs: [parts[0].qkv, tables!.0, tables!.1], outputs: node.outputs)
        }
        return rewrite.apply(to: g)
    }

    /// cos = 1, sin = 0 tables [S, d], shared by every attention of that size.
    private func identityTables(_ g: inout Graph, seq: Int, headDim: Int) -> (String, String) {
        let cos = "rope.identity.cos.\(seq)x\(headDim)", sin = "rope.identity.sin.\(seq)x\(headDim)"
        if g.initializer(named: cos) == nil {
            g.initializers.append(Initializer(name: cos, dims: [seq, headDim], floats: [Float](repeating: 1, count: seq * headDim)))
            g.initializers.append(Initializer(name: sin, dims: [seq, headDim], floats: [Float](repeating: 0, count: seq * headDim)))
        }
        return (cos, sin)
    }
}
