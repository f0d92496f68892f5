import CKernels

/// Mamba-2's gated RMSNorm (norm_before_gate = False, docs/mamba2.md §2.5/§4.4): v = y ⊙ silu(z),
/// each group of `groupSize` channels is RMS-normalised, then × weight.
///
/// Saved for backward: 1/rms per (row, group) [rows, G]; y and z are the caller's (the scan output
/// and a slice of in_proj's output, both kept by the mixer).
public struct GatedRMSNorm: Sendable, Hashable {
    public let rows: Int
    public let cols: Int
    public let groupSize: Int
    public let eps: Float

    public init(rows: Int, cols: Int, groupSize: Int, eps: Float) {
        precondition(rows >= 0 && cols > 0 && groupSize > 0 && cols % groupSize == 0, "GatedRMSNorm: bad sizes")
        self.rows = rows
        self.cols = cols
        self.groupSize = groupSize
        self.eps = eps
    }

    private var groups: Int { cols / groupSize }

    /// σ of every element with the runtime's vectorised kernel.
    static func sigmoid(_ z: [Float]) -> [Float] {
        guard !z.isEmpty else { return [] }
        return [Float](unsafeUninitializedCapacity: z.count) { out, n in
            z.withUnsafeBufferPointer { trm_vsigmoid($0.baseAddress!, out.baseAddress!, z.count) }
            n = z.count
        }
    }

    /// silu of every element with the runtime's vectorised kernel.
    static func silu(_ z: [Float]) -> [Float] {
        guard !z.isEmpty else { return [] }
        return [Float](unsafeUninitializedCapacity: z.count) { out, n in
            z.withUnsafeBufferPointer { trm_vsilu($0.baseAddress!, out.baseAddress!, z.count) }
            n = z.count
        }
    }

    /// y, z [rows, cols], weight [cols] -> (out [rows, cols], 1/rms [rows, G]).
    public func forward(_ y: [Float], _ z: [Float], weight: [Float]) -> (out: [Float], invRMS: [Float]) {
        checkCount(y, rows * cols, "GatedRMSNorm y"); checkCount(z, rows * cols, "GatedRMSNorm z")
        checkCount(weight, cols, "GatedRMSNorm weight")
        var out = [Float](repeating: 0, count: rows * cols)
        var inv = [Float](repeating: 0, count: rows * groups)
        let siluZ = Self.silu(z)
        y.withUnsafeBufferPointer { yp in
            siluZ.withUnsafeBufferPointer { zp in
                out.withUnsafeMutableBufferPointer { op in
                    for r in 0..<rows {
                        for g in 0..<groups {
                            let lo = r * cols + g * groupSize, hi = lo + groupSize
                            var ss: Float = 0
                            for i in lo..<hi {
                                let v = yp[i] * zp[i]
                                op[i] = v
                                ss += v * v
                            }
                            let ir = 1 / (ss / Float(groupSize) + eps).squareRoot()
                            inv[r * groups + g] = ir
                            for i in lo..<hi { op[i] = op[i] * ir * weight[i - r * cols] }
                        }
                    }
                }
            }
        }
        return (out, inv)
    }

    /// dOut [rows, cols] -> (dy, dz) [rows, cols]; accumulates dWeight [cols].
    /// With gw = dOut ⊙ w: ∂v = r·(gw − v·r²·mean(gw ⊙ v)), ∂w += dOut ⊙ v·r, ∂y = ∂v ⊙ silu(z),
    /// ∂z = ∂v ⊙ y ⊙ silu′(z).
    public func backward(
        _ dOut: [Float], y: [Float], z: [Float], weight: [Float], invRMS: [Float],
        dWeight: inout [Float]
    ) -> (dy: [Float], dz: [Float]) {
        checkCount(dOut, rows * cols, "GatedRMSNorm dOut")
        checkCount(y, rows * cols, "GatedRMSNorm y"); checkCount(z, rows * cols, "GatedRMSNorm z")
        checkCount(weight, cols, "GatedRMSNorm weight"); checkCount(dWeight, cols, "GatedRMSNorm dWeight")
        checkCount(invRMS, rows * groups, "GatedRMSNorm saved 1/rms")
        var dy = [Float](repeating: 0, count: rows * cols), dz = dy
        let sig = Self.sigmoid(z)
        y.withUnsafeBufferPointer { yp in
            z.withUnsafeBufferPointer { zp in
                dOut.withUnsafeBufferPointer { gp in
                    sig.withUnsafeBufferPointer { sp in
                        dy.withUnsafeMutableBufferPointer { dyp in
                            dz.withUnsafeMutableBufferPointer { dzp in
                                for r in 0..<rows {
                                    for g in 0..<groups {
                                        let lo = r * cols + g * groupSize, hi = lo + groupSize, ir = invRMS[r * groups + g]
                                        var dot: Double = 0
                                        for i in lo..<hi {
                                            let v = yp[i] * zp[i] * sp[i]
                                            dot += Double(gp[i] * weight[i - r * cols]) * Double(v)
                                        }
                                        let k = ir * ir * Float(dot / Double(groupSize))
                                        for i in lo..<hi {
                                            // silu(z) = z·σ, silu′(z) = σ·(1 + z·(1 − σ)).
                                            let c = i - r * cols, sg = sp[i], sz = zp[i] * sg, v = yp[i] * sz
                                            dWeight[c] += gp[i] * v * ir
                                            let dv = ir * (gp[i] * weight[c] - v * k)
                                            dyp[i] = dv * sz
                                            dzp[i] = dv * yp[i] * sg * (1 + zp[i] * (1 - sg))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dy, dz)
    }
}
