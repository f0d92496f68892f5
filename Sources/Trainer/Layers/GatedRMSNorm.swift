import CKernels

/// Mamba-2's gated RMSNorm (norm_before_gate = False, docs/mamba2.md §2.5/§4.3): v = y ⊙ silu(z),
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

    /// Rows per block of the thread split: each block adds its weight gradient to its own part,
    /// summed in block order, so the result does not depend on the thread count.
    static let rowsPerBlock = 64

    private var blocks: Int { (rows + Self.rowsPerBlock - 1) / Self.rowsPerBlock }

    /// y, z [rows, cols], weight [cols] -> (out [rows, cols], 1/rms [rows, G]), on
    /// `trm_gated_rmsnorm_rows` with the rows split over the trainer's threads.
    public func forward(_ y: [Float], _ z: [Float], weight: [Float]) -> (out: [Float], invRMS: [Float]) {
        checkCount(y, rows * cols, "GatedRMSNorm y"); checkCount(z, rows * cols, "GatedRMSNorm z")
        checkCount(weight, cols, "GatedRMSNorm weight")
        var out = [Float](repeating: 0, count: rows * cols)
        var inv = [Float](repeating: 0, count: rows * groups)
        y.withUnsafeBufferPointer { yp in
            z.withUnsafeBufferPointer { zp in
                weight.withUnsafeBufferPointer { wp in
                    out.withUnsafeMutableBufferPointer { op in
                        inv.withUnsafeMutableBufferPointer { ip in
                            TrainerThreads.parts(blocks) { range in
                                let r0 = range.lowerBound * Self.rowsPerBlock, r1 = min(rows, range.upperBound * Self.rowsPerBlock)
                                trm_gated_rmsnorm_rows(
                                    yp.baseAddress! + r0 * cols, zp.baseAddress! + r0 * cols, wp.baseAddress!,
                                    op.baseAddress! + r0 * cols, ip.baseAddress! + r0 * groups, r1 - r0, cols, groupSize, eps)
                            }
                        }
                    }
                }
            }
        }
        return (out, inv)
    }

    /// dOut [rows, cols] -> (dy, dz) [rows, cols]; accumulates dWeight [cols], on
    /// `trm_gated_rmsnorm_backward_rows`. With gw = dOut ⊙ w: ∂v = r·(gw − v·r²·mean(gw ⊙ v)),
    /// ∂w += dOut ⊙ v·r, ∂y = ∂v ⊙ silu(z), ∂z = ∂v ⊙ y ⊙ silu′(z).
    public func backward(
        _ dOut: [Float], y: [Float], z: [Float], weight: [Float], invRMS: [Float],
        dWeight: inout [Float]
    ) -> (dy: [Float], dz: [Float]) {
        checkCount(dOut, rows * cols, "GatedRMSNorm dOut")
        checkCount(y, rows * cols, "GatedRMSNorm y"); checkCount(z, rows * cols, "GatedRMSNorm z")
        checkCount(weight, cols, "GatedRMSNorm weight"); checkCount(dWeight, cols, "GatedRMSNorm dWeight")
        checkCount(invRMS, rows * groups, "GatedRMSNorm saved 1/rms")
        var dy = [Float](repeating: 0, count: rows * cols), dz = dy
        var parts = [Float](repeating: 0, count: blocks * cols)
        y.withUnsafeBufferPointer { yp in
            z.withUnsafeBufferPointer { zp in
                dOut.withUnsafeBufferPointer { gp in
                    weight.withUnsafeBufferPointer { wp in
                        invRMS.withUnsafeBufferPointer { ip in
                            dy.withUnsafeMutableBufferPointer { dyp in
                                dz.withUnsafeMutableBufferPointer { dzp in
                                    parts.withUnsafeMutableBufferPointer { pp in
                                        TrainerThreads.parts(blocks) { range in
                                            var scratch = [Float](repeating: 0, count: 2 * cols)
                                            scratch.withUnsafeMutableBufferPointer { sp in
                                                for block in range {
                                                    let r0 = block * Self.rowsPerBlock, r1 = min(rows, r0 + Self.rowsPerBlock)
                                                    let o = r0 * cols
                                                    trm_gated_rmsnorm_backward_rows(
                                                        gp.baseAddress! + o, yp.baseAddress! + o, zp.baseAddress! + o,
                                                        wp.baseAddress!, ip.baseAddress! + r0 * groups, dyp.baseAddress! + o,
                                                        dzp.baseAddress! + o, pp.baseAddress! + block * cols, r1 - r0, cols,
                                                        groupSize, sp.baseAddress!)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for block in 0..<blocks { for c in 0..<cols { dWeight[c] += parts[block * cols + c] } }
        return (dy, dz)
    }
}
