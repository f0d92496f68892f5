import GraphIR
import Runtime

/// Plans the activation arena of one sample (docs/formats.md §4): liveness over the schedule, in-place
/// reuse for elementwise and norm ops, then greedy-by-size offset assignment tried in several
/// orders, keeping the smallest. The runtime scales every offset by the batch size.
public enum MemoryPlanner {
    public struct Result: Sendable {
        public var placements: [ValuePlacement]
        public var arenaBytesPerSample: Int
        /// Sum of every value's size: what a planner-less executor would allocate.
        public var naiveBytesPerSample: Int
    }

    static let alignment = ModelPlan.alignment

    /// A plan with `graph`'s placements and the kernels' workspace, and no config: what the
    /// compiler's constant folding and the tests hand to the runtime for a graph run directly.
    public static func modelPlan(_ graph: Graph) throws -> ModelPlan {
        let memory = try plan(graph)
        return ModelPlan(
            arenaBytesPerSample: memory.arenaBytesPerSample, naiveBytesPerSample: memory.naiveBytesPerSample,
            workspaceBytes: KernelWorkspace(graph: graph, types: try Verifier.verify(graph)).bytesPerThread,
            placements: memory.placements)
    }

    /// A buffer: values that share memory (an in-place chain), with the union of their lifetimes.
    struct Buffer {
        var size: Int
        var start: Int
        var end: Int
        var values: [String]
    }

    /// Bytes per sample an executor without planning would allocate for `graph`: every input and
    /// node output in its own buffer.
    public static func naiveBytes(_ graph: Graph) throws -> Int {
        let types = try Verifier.verify(graph)
        return Set(graph.inputs.map(\.name) + graph.nodes.flatMap(\.outputs)).reduce(0) { total, name in
            let t = types[name]!
            return total + (t.shape.elementsPerSample ?? 0) * t.dtype.byteSize
        }
    }

    public static func plan(_ graph: Graph) throws -> Result {
        let types = try Verifier.verify(graph)
        func bytes(_ name: String) -> Int { ModelPlan.placedBytes(types[name]!) }
        let end = graph.nodes.count
        var lastUse: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() { for v in node.inputs { lastUse[v] = i } }
        for o in graph.outputs { lastUse[o.name] = end }
        // Graph inputs live for the whole step: the ACT loop writes carries into them after a step.
        for i in graph.inputs { lastUse[i.name] = end }

        var buffers: [Buffer] = graph.inputs.map { Buffer(size: bytes($0.name), start: -1, end: end, values: [$0.name]) }
        var bufferOf: [String: Int] = [:]
        for (i, v) in graph.inputs.enumerated() { bufferOf[v.name] = i }
        for (i, node) in graph.nodes.enumerated() {
            for (k, out) in node.outputs.enumerated() {
                let dies = lastUse[out] ?? i
                if k == 0, let source = node.op.facts.inPlaceInput.map({ node.inputs[$0] }), let b = bufferOf[source], lastUse[source] == i,
                    buffers[b].end == i, bytes(source) == bytes(out), graph.initializer(named: source) == nil
                {
                    buffers[b].end = max(buffers[b].end, dies)
                    buffers[b].values.append(out)
                    bufferOf[out] = b
                } else {
                    buffers.append(Buffer(size: bytes(out), start: i, end: max(i, dies), values: [out]))
                    bufferOf[out] = buffers.count - 1
                }
            }
        }
        let naive = Set(graph.inputs.map(\.name) + graph.nodes.flatMap(\.outputs)).reduce(0) { $0 + bytes($1) }
        let orders: [(Buffer, Buffer) -> Bool] = [
            { ($0.size, $1.start) > ($1.size, $0.start) },
            { ($0.start, $1.size) < ($1.start, $0.size) },
            { $0.size * ($0.end - $0.start + 1) > $1.size * ($1.end - $1.start + 1) },
        ]
        var best: (offsets: [Int], total: Int)?
        for order in orders {
            let indices = buffers.indices.sorted { order(buffers[$0], buffers[$1]) }
            let (offsets, total) = assign(buffers, order: indices)
            if best == nil || total < best!.total { best = (offsets, total) }
        }
        var placements: [ValuePlacement] = []
        for (b, buffer) in buffers.enumerated() {
            for v in buffer.values {
                placements.append(ValuePlacement(name: v, offset: best!.offsets[b], bytesPerSample: bytes(v)))
            }
        }
        placements.sort { $0.name < $1.name }
        return Result(placements: placements, arenaBytesPerSample: max(best!.total, alignment), naiveBytesPerSample: naive)
    }

    /// Greedy first fit in the given order: each buffer takes the lowest offset not used by a placed
    /// buffer whose lifetime overlaps its own.
    static func assign(_ buffers: [Buffer], order: [Int]) -> ([Int], Int) {
        var offsets = [Int](repeating: -1, count: buffers.count)
        var placed: [Int] = []
        var total = 0
        for i in order {
            let b = buffers[i]
            var busy = placed.filter { buffers[$0].start <= b.end && b.start <= buffers[$0].end }
                .map { (offsets[$0], offsets[$0] + buffers[$0].size) }
            busy.sort { $0.0 < $1.0 }
            var candidate = 0
            for (lo, hi) in busy {
                if candidate + b.size <= lo { break }
                candidate = max(candidate, hi)
            }
            offsets[i] = candidate
            total = max(total, candidate + b.size)
            placed.append(i)
        }
        return (offsets, total)
    }
}
