import GraphIR

/// Scratch memory the kernels of a step graph need beyond the activation arena: a workspace per
/// thread and a buffer the threads share (one sample of a fused Mamba-2 layer; a session holds one
/// copy per thread where that layer gives each thread whole samples, `ScanGateArgs`). Both depend on
/// the graph's sample shapes only, not on the batch size, so they are known when a model is loaded:
/// the compiler records the per-thread size in the plan, and the loader refuses a plan whose
/// declared workspace differs from what these kernels need.
public struct KernelWorkspace: Equatable, Sendable {
    /// Floats of per-thread workspace, rounded up to a 64-byte multiple.
    public private(set) var floatsPerThread = 0
    /// Floats of scratch shared by all threads.
    public private(set) var sharedFloats = 0

    /// The needs of every node of `graph` (verified, with its `types`).
    public init(graph: Graph, types: [String: TensorType]) {
        var perThread = 0
        for node in graph.nodes {
            let needs = KernelWorkspace.floats(node, types: types)
            perThread = max(perThread, needs.perThread)
            sharedFloats = max(sharedFloats, needs.shared)
        }
        floatsPerThread = (perThread + 15) / 16 * 16
    }

    /// The floats of scratch one node's kernel needs, per thread and shared. Nonzero exactly where
    /// the op's `OpFacts.workspace` says the kernel takes a workspace (a test holds the two together).
    public static func floats(_ node: Node, types: [String: TensorType]) -> (perThread: Int, shared: Int) {
        func sample(_ name: String) -> [Int] { types[name]!.shape.sampleDims }
        let x = node.inputs.first ?? ""
        switch node.op {
        case .matMul(let epilogue):
            return (MatMulKernel.scratchFloats(n: sample(node.inputs[1])[0], swiGLU: epilogue == .swiGLU), 0)
        case .attention(_, let hd), .fusedAttention(_, let hd):
            return (Attention.workspaceFloats(seq: sample(x)[0], headDim: hd), 0)
        case .conv1dCausal:
            return (Mamba2.convWorkspaceFloats(channels: sample(x)[1], kernel: sample(node.inputs[1])[2]), 0)
        case .ssmScan(let m):
            return (Mamba2.scanWorkspaceFloats(headDim: m.headDim, dState: m.dState), 0)
        case .mamba2ScanGate(let m, let k, let eps):
            let seq = sample(x)[0]
            let shared = Mamba2.scanGateSharedFloats(seq: seq, heads: m.heads, headDim: m.headDim, dState: m.dState, groups: m.groups)
            return (Mamba2.scanGateWorkspaceFloats(KernelWorkspace.shape(m, seq: seq, kernel: k, eps: eps)), shared)
        case .gather, .add, .mul, .scale, .silu, .softplus, .exp, .sigmoid, .rmsNorm, .addRMSNorm, .ropeTable, .rope,
            .swiGLU, .transpose, .concat, .slice, .pad, .reshape, .gatedRMSNorm, .argmax:
            return (0, 0)
        }
    }

    /// Floats of per-thread workspace a session of `precision` allocates: bf16 MatMuls take the bf16
    /// GEMM's workspace after their fp32 scratch (`BF16MatMulArgs`), beyond what the plan records.
    public func floatsPerThread(_ precision: Precision) -> Int {
        floatsPerThread + (precision == .bf16 ? BF16Gemm.maxWorkspaceFloats : 0)
    }

    /// The per-thread workspace in bytes: the plan's `workspace_bytes`.
    public var bytesPerThread: Int { floatsPerThread * 4 }

    /// The fused Mamba-2 kernel's shape for one layer of `seq` tokens.
    static func shape(_ m: Mamba2Dims, seq: Int, kernel: Int, eps: Float) -> Mamba2.ScanGateShape {
        Mamba2.ScanGateShape(
            seq: seq, heads: m.heads, headDim: m.headDim, dState: m.dState, groups: m.groups,
            kernel: kernel, eps: eps, reverse: m.reverse)
    }
}
