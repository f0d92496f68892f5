/// The size bounds every tensor reader and the verifier share: a file (checkpoint, .trmg, .npy)
/// whose tensor passes them cannot overflow an element or byte count.
public enum TensorLimits {
    /// Largest size any single dimension may have; keeps element counts far from overflow.
    public static let maxDim = 1 << 31

    /// Largest element count a single value may have per sample (or in total for a weight): 2³⁶
    /// fp32 values = 256 GiB, far above any real model and far below Int overflow.
    public static let maxElements = 1 << 36

    /// The product of `dims`, or nil on overflow.
    public static func product(_ dims: [Int]) -> Int? {
        var n = 1
        for d in dims {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }
}
