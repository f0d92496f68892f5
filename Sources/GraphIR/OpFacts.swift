/// The facts about an op that the compiler, the memory planner, the reports and the runtime ask
/// for, in one table. `Op.facts` is a single exhaustive `switch`, so a new op does not build until
/// it has a row here. (Shapes and dtypes are `Op.inferTypes`; kernels are the runtime's
/// `ProgramBuilder`; sizes of kernel scratch are the runtime's `KernelWorkspace`. Those switches are
/// exhaustive too. docs/ARCHITECTURE.md lists every place a new op goes.)
public struct OpFacts: Sendable, Equatable {
    /// How one sample's floating-point operations are counted (`OpCost`).
    public enum Cost: Sendable, Equatable {
        /// A matrix product `[rows, K] · [K, N]`: 2·K FLOPs per output element, twice that with
        /// a SwiGLU epilogue (its output has half the product's columns).
        case matMul(epilogue: MatMulEpilogue)
        /// Non-causal softmax attention over S tokens: QKᵀ and P·V, 4·S²·H·d.
        case attention(heads: Int, headDim: Int)
        /// The Mamba-2 recurrence: about 5·P·N FLOPs per head and token.
        case scan(Mamba2Dims)
        /// One FLOP per output element (elementwise, norms, layout, lookups).
        case perElement

        /// True for the Mamba-2 recurrence, whose time reports show apart from the matrix products.
        public var isScan: Bool {
            if case .scan = self { return true }
            return false
        }
    }

    /// Scratch memory a kernel needs beyond the arena (sized by the runtime's `KernelWorkspace`).
    public enum Workspace: Sendable, Equatable {
        case none
        /// Scratch per worker thread.
        case perThread
        /// Scratch per worker thread and one buffer shared by all threads.
        case perThreadAndShared
    }

    /// Only the compiler's fusion passes emit the op (the lowering never does).
    public var isFused: Bool
    /// The input whose buffer the output may take over when that input dies here: same size, and the
    /// kernel reads each element (or row) before writing it.
    public var inPlaceInput: Int?
    public var cost: Cost
    public var workspace: Workspace

    public init(isFused: Bool = false, inPlaceInput: Int? = nil, cost: Cost = .perElement, workspace: Workspace = .none) {
        self.isFused = isFused
        self.inPlaceInput = inPlaceInput
        self.cost = cost
        self.workspace = workspace
    }
}

extension Op {
    /// This op's row of the facts table.
    public var facts: OpFacts {
        switch self {
        case .add, .mul, .scale, .silu, .softplus, .exp, .sigmoid, .rmsNorm:
            return OpFacts(inPlaceInput: 0)
        case .addRMSNorm:
            return OpFacts(isFused: true, inPlaceInput: 0)
        case .gather, .ropeTable, .rope, .swiGLU, .transpose, .concat, .slice, .reshape, .pad, .gatedRMSNorm, .argmax:
            return OpFacts()
        case .matMul(let epilogue):
            // A plain product writes straight to its output; an epilogue stages row blocks in scratch.
            return OpFacts(isFused: epilogue != .none, cost: .matMul(epilogue: epilogue), workspace: epilogue == .none ? .none : .perThread)
        case .attention(let heads, let headDim):
            return OpFacts(cost: .attention(heads: heads, headDim: headDim), workspace: .perThread)
        case .fusedAttention(let heads, let headDim):
            return OpFacts(isFused: true, cost: .attention(heads: heads, headDim: headDim), workspace: .perThread)
        case .conv1dCausal:
            return OpFacts(workspace: .perThread)
        case .ssmScan(let dims):
            return OpFacts(cost: .scan(dims), workspace: .perThread)
        case .mamba2ScanGate(let dims, _, _):
            return OpFacts(isFused: true, cost: .scan(dims), workspace: .perThreadAndShared)
        }
    }

    /// The name reports give a fused op: its `op_type`, or `MatMul+SwiGLU` for the fused epilogue.
    public var fusedLabel: String {
        guard case .matMul(let epilogue) = self else { return name }
        switch epilogue {
        case .none: return name
        case .swiGLU: return "MatMul+SwiGLU"
        }
    }
}

extension Graph {
    /// How many nodes of each fused op the graph holds, by `Op.fusedLabel`.
    public var fusedOpHistogram: [String: Int] {
        nodes.filter(\.op.facts.isFused).reduce(into: [:]) { $0[$1.op.fusedLabel, default: 0] += 1 }
    }
}
