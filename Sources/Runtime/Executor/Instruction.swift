/// One node of the step graph with every pointer and size resolved for a session's batch size, so
/// running a step only walks this list (no lookups, no allocation).
enum Instruction {
    typealias P = UnsafeMutablePointer<Float>

    enum Unary { case silu, softplus, exp, sigmoid }

    case gather(table: P, rows: Int, cols: Int, indices: UnsafeMutablePointer<Int32>, count: Int, out: P, node: String)
    case matMul(x: P, w: P, bias: P?, out: P, rows: Int, n: Int, k: Int, swiGLU: Bool)
    case add(a: P, b: P, out: P, count: Int, bCount: Int)
    case mul(a: P, b: P, out: P, count: Int, bCount: Int)
    case scale(x: P, out: P, count: Int, factor: Float)
    case unary(Unary, x: P, out: P, count: Int)
    case rmsNorm(x: P, out: P, rows: Int, cols: Int, eps: Float)
    case addRMSNorm(a: P, b: P, out: P, rows: Int, cols: Int, bCount: Int, eps: Float)
    case ropeTable(cos: P, sin: P, seq: Int, dim: Int, theta: Float)
    case rope(x: P, cos: P, sin: P, out: P, batch: Int, seq: Int, heads: Int, headDim: Int)
    case attention(q: P, k: P, v: P, out: P, batch: Int, seq: Int, heads: Int, headDim: Int)
    case fusedAttention(qkv: P, cos: P, sin: P, out: P, batch: Int, seq: Int, heads: Int, headDim: Int)
    case swiGLU(x: P, out: P, rows: Int, width: Int)
    case transpose(x: P, out: P, dims: [Int], perm: [Int])
    case concat(parts: [UnsafePointer<Float>], sizes: [Int], out: P, outer: Int, inner: Int)
    case slice(x: P, out: P, outer: Int, axis: Int, inner: Int, start: Int, end: Int)
    case pad(x: P, out: P, outer: Int, axis: Int, inner: Int, after: Int)
    case copy(x: P, out: P, count: Int)
    case conv(x: P, w: P, bias: P, out: P, batch: Int, seq: Int, channels: Int, kernel: Int, reverse: Bool)
    case ssmScan(x: P, dt: P, a: P, bm: P, cm: P, d: P, out: P, batch: Int, seq: Int, dims: (heads: Int, headDim: Int, dState: Int, groups: Int), reverse: Bool)
    case gatedRMSNorm(y: P, z: P, w: P, out: P, rows: Int, cols: Int, groupSize: Int, eps: Float)
    case argmax(x: P, out: UnsafeMutablePointer<Int32>, rows: Int, cols: Int)
    case scanGate(zx: P, convW: P, convB: P, dtBias: P, a: P, d: P, normW: P, out: P, batch: Int, shape: Mamba2.ScanGateShape)
}
