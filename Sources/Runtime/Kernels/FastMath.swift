/// SIMD helpers shared by the Swift kernels. The exp-based loops (softmax, SiLU, sigmoid, SwiGLU,
/// the Mamba-2 gate) live in the C module CKernels, where min/max, rounding and int conversion
/// vectorise; Swift's generic SIMD versions of those run per lane.
public enum FastMath {
    public typealias V = SIMD8<Float>
}
