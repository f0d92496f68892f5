import GraphIR

/// The Mamba-2 chain from the in_proj output to the gated norm (Slice z/xBC/dt, Conv1dCausal, SiLU,
/// Slice x/B/C, Add dt_bias, Softplus, SSMScan, GatedRMSNorm) -> one Mamba2ScanGate that reads
/// the in_proj output once and keeps every intermediate in per-thread workspace.
public struct Mamba2ScanGateFusion: GraphPass {
    public let name = "mamba2-scan-gate-fusion"
    public init() {}

    public func run(_ graph: consuming Graph) throws -> Graph {
        let graph = copy graph
        let index = GraphIndex(graph)
        let types = try Verifier.verify(graph)
        var rewrite = Rewrite()
        for node in graph.nodes {
            guard case .gatedRMSNorm(let groupSize, let eps) = node.op,
                let fused = match(node, groupSize: groupSize, eps: eps, index, types)
            else { continue }
            rewrite.removed.formUnion(fused.consumed)
            rewrite.replacements[node.name] = fused.node
        }
        return rewrite.apply(to: graph)
    }

    private func match(
        _ norm: Node, groupSize: Int, eps: Float, _ ix: GraphIndex,
        _ types: [String: TensorType]
    ) -> (node: Node, consumed: [String])? {
        guard let scan = ix.soleProducer(norm.inputs[0], .ssmScan), case .ssmScan(let m) = scan.op,
            groupSize == m.inner / m.groups
        else { return nil }
        let e = m.inner, gn = m.groups * m.dState, cd = m.convChannels
        func slice(_ v: String, _ start: Int, _ end: Int, shared: Bool = false) -> Node? {
            guard let i = ix.producer[v] else { return nil }
            let n = ix.graph.nodes[i]
            guard n.op == .slice(axis: 2, start: start, end: end), shared || ix.uses[v] == 1, !ix.outputs.contains(v) else { return nil }
            return n
        }
        guard let xs = slice(scan.inputs[0], 0, e), let bs = slice(scan.inputs[3], e, e + gn), let cs = slice(scan.inputs[4], e + gn, cd),
            xs.inputs[0] == bs.inputs[0], bs.inputs[0] == cs.inputs[0], ix.uses[xs.inputs[0]] == 3, !ix.outputs.contains(xs.inputs[0]),
            let silu = ix.graph.nodes.first(where: { $0.outputs == [xs.inputs[0]] && $0.op == .silu }),
            let conv = ix.soleProducer(silu.inputs[0], .conv1dCausal), conv.op == .conv1dCausal(reverse: m.reverse),
            let softplus = ix.soleProducer(scan.inputs[1], .softplus),
            let addBias = ix.soleProducer(softplus.inputs[0], .add), ix.graph.initializer(named: addBias.inputs[1])?.dims == [m.heads],
            let dtSlice = slice(addBias.inputs[0], e + cd, e + cd + m.heads),
            let xbcSlice = slice(conv.inputs[0], e, e + cd),
            let zSlice = slice(norm.inputs[1], 0, e),
            dtSlice.inputs[0] == xbcSlice.inputs[0], zSlice.inputs[0] == xbcSlice.inputs[0],
            types[zSlice.inputs[0]]?.shape.sampleDims.last == m.inProjWidth,
            [scan.inputs[2], scan.inputs[5], norm.inputs[2], conv.inputs[1], conv.inputs[2]].allSatisfy(ix.isConstant),
            let convW = ix.graph.initializer(named: conv.inputs[1])
        else { return nil }
        let zx = zSlice.inputs[0]
        let op = Op.mamba2ScanGate(m, convKernel: convW.dims[2], eps: eps)
        let fused = Node(
            NodeNames.replacing(norm.name, role: "scan_gate"), op,
            inputs: [zx, conv.inputs[1], conv.inputs[2], addBias.inputs[1], scan.inputs[2], scan.inputs[5], norm.inputs[2]],
            outputs: norm.outputs)
        let consumed = [scan, xs, bs, cs, silu, conv, softplus, addBias, dtSlice, xbcSlice, zSlice].map(\.name)
        return (fused, consumed)
    }
}
