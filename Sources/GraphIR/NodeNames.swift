/// How step-graph nodes are named (docs/formats.md §2.4): `<scope>.<role>`, the scope saying where
/// the node sits (`input`, `rope`, `weights.block0.mamba`, `H1.L2.block0.attn`, `H1.H.inject`,
/// `heads`) and the role what it computes (`qkv_proj`, `norm`, `fused_attention`). Names are unique
/// in a graph. Graphs built without roles (tests, hand-made graphs) keep `<Op>_<n>`.
public enum NodeNames {
    /// `name`, or the first of `name_2`, `name_3`, … that is not in `taken`.
    public static func unique(_ name: String, in taken: Set<String>) -> String {
        guard taken.contains(name) else { return name }
        var k = 2
        while taken.contains("\(name)_\(k)") { k += 1 }
        return "\(name)_\(k)"
    }

    /// The name of a node that replaces `anchor` (a fusion's result): `anchor`'s scope with `role`.
    /// A name without a scope (`RMSNorm_5`) is kept as it is.
    public static func replacing(_ anchor: String, role: String) -> String {
        guard let dot = anchor.lastIndex(of: ".") else { return anchor }
        return anchor[..<dot] + "." + role
    }

    /// The last segment of `name`: its role, or the whole of a name without a scope.
    public static func role(of name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[name.index(after: dot)...])
    }

    /// The scope of one network application (docs/model.md §6): `H{h}.L{l}` for the l-th z_L update
    /// of H cycle h, `H{h}.H` for its z_H update (both counted from 1).
    public static func application(hCycle h: Int, lCycle l: Int?) -> [String] {
        ["H\(h)", l.map { "L\($0)" } ?? "H"]
    }
}
