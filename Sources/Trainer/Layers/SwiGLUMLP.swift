/// f(x) = down_proj(silu(gate) ⊙ up) with [gate | up] = gate_up_proj(x), over the last axis of
/// [rows, n]. The channel MLP uses n = D on rows = B·S; mlp_t uses n = S on the transposed rows B·D.
/// Tensors: `<prefix>.gate_up_proj.weight` [2I, n], `<prefix>.down_proj.weight` [n, I].
///
/// Saved for backward: the input x [rows, n] and the gate_up output [rows, 2I]. The activation
/// silu(gate)⊙up [rows, I] (down_proj's input) is recomputed in the backward instead of stored.
public struct SwiGLUMLP: Sendable, Hashable {
    public let rows: Int
    /// n: features in and out.
    public let features: Int
    /// I: the SwiGLU width.
    public let width: Int

    public init(rows: Int, features: Int, width: Int) {
        precondition(rows >= 0 && features > 0 && width > 0, "SwiGLUMLP: bad sizes")
        self.rows = rows
        self.features = features
        self.width = width
    }

    public struct Saved: Sendable {
        public let input: [Float]
        public let gateUp: [Float]
    }

    private var gateUpProj: Linear { Linear(inFeatures: features, outFeatures: 2 * width) }
    private var downProj: Linear { Linear(inFeatures: width, outFeatures: features) }
    private var activation: SwiGLUActivation { SwiGLUActivation(rows: rows, width: width) }

    /// x [rows, n] -> [rows, n].
    public func forward(_ x: [Float], params: ParameterSet, prefix: String) -> (out: [Float], saved: Saved) {
        let gu = gateUpProj.forward(x, rows: rows, params: params, name: prefix + ".gate_up_proj.weight")
        let out = downProj.forward(activation.forward(gu), rows: rows, params: params, name: prefix + ".down_proj.weight")
        return (out, Saved(input: x, gateUp: gu))
    }

    /// dOut [rows, n] -> dx [rows, n]; accumulates both weight gradients into `grads`.
    public func backward(
        _ dOut: [Float], _ saved: Saved, params: ParameterSet, grads: inout ParameterSet,
        prefix: String
    ) -> [Float] {
        let down = prefix + ".down_proj.weight", gateUp = prefix + ".gate_up_proj.weight"
        let act = activation.forward(saved.gateUp)
        let dAct = downProj.backward(dOut, x: act, rows: rows, params: params, name: down, grads: &grads)
        let dgu = activation.backward(dAct, input: saved.gateUp)
        return gateUpProj.backward(dgu, x: saved.input, rows: rows, params: params, name: gateUp, grads: &grads)
    }
}
