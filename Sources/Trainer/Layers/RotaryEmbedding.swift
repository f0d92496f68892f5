import Runtime

/// Rotary position embedding, half-split ("NeoX") layout (docs/model.md §5.3): for each head vector v,
/// v' = v·cos + rot(v)·sin with rot(v) = (−v[d/2:], v[:d/2]). The tables come from the runtime's
/// `Rope.table`, so training and inference rotate by bit-identical angles.
///
/// Saved for backward: nothing; the map is linear and its transpose rotates by −angle.
public struct RotaryEmbedding: Sendable {
    public let seq: Int
    public let heads: Int
    public let headDim: Int
    /// cos/sin [seq, headDim].
    public let cos: [Float]
    public let sin: [Float]

    public init(seq: Int, heads: Int, headDim: Int, theta: Float) {
        precondition(seq > 0 && heads > 0 && headDim > 0 && headDim % 2 == 0, "RotaryEmbedding: bad sizes")
        self.seq = seq
        self.heads = heads
        self.headDim = headDim
        var c = [Float](repeating: 0, count: seq * headDim), s = c
        c.withUnsafeMutableBufferPointer { cp in
            s.withUnsafeMutableBufferPointer { sp in
                Rope.table(cos: cp.baseAddress!, sin: sp.baseAddress!, seqLen: seq, dim: headDim, theta: theta)
            }
        }
        cos = c
        sin = s
    }

    /// x [B, seq, heads·headDim] -> rotated, same shape.
    public func forward(_ x: [Float], batch: Int) -> [Float] { rotate(x, batch: batch, transpose: false) }

    /// dOut [B, seq, heads·headDim] -> dX: the transposed rotation.
    public func backward(_ dOut: [Float], batch: Int) -> [Float] { rotate(dOut, batch: batch, transpose: true) }

    private func rotate(_ x: [Float], batch: Int, transpose: Bool) -> [Float] {
        let d = headDim, half = d / 2, w = heads * d
        checkCount(x, batch * seq * w, "RotaryEmbedding input [\(batch), \(seq), \(w)]")
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                cos.withUnsafeBufferPointer { cp in
                    sin.withUnsafeBufferPointer { sp in
                        for row in 0..<(batch * seq) {
                            let p = row % seq, c = cp.baseAddress! + p * d, s = sp.baseAddress! + p * d
                            for h in 0..<heads {
                                let base = row * w + h * d
                                for i in 0..<half {
                                    let a = xp[base + i], b = xp[base + i + half]
                                    if transpose {
                                        // Forward: o1 = a·c1 − b·s1, o2 = b·c2 + a·s2.
                                        op[base + i] = a * c[i] + b * s[i + half]
                                        op[base + i + half] = b * c[i + half] - a * s[i]
                                    } else {
                                        op[base + i] = a * c[i] - b * s[i]
                                        op[base + i + half] = b * c[i + half] + a * s[i + half]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
