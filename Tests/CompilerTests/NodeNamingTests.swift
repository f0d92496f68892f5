import Compiler
import Foundation
import GraphIR
import Testing

/// Node names of compiled graphs follow docs/formats.md §2.4: unique, `<scope>.<role>` with the
/// place in the recursion and the block, and a role that says what the node's op is.
@Suite struct NodeNamingTests {
    /// The scheme of docs/formats.md §2.4 as one pattern.
    static let scheme = try! Regex(
        #"^((input|rope|heads)\.[a-z_]+|weights\.block[0-9]+\.mamba[0-9]*\.[A-Za-z_]+"#
            + #"|H[1-9][0-9]*\.(L[1-9][0-9]*|H)\.(inject\.[a-z_]+|block[0-9]+\.(attn|mlp|mlp_t|mamba)[0-9]*(\.(fwd|rev))?\.[A-Za-z0-9_]+))$"#
    )

    /// What each role computes: the op a node of that role must have.
    static let roles: [String: OpKind] = [
        "embed_tokens": .gather, "embed_tokens_scale": .scale, "puzzle_emb": .gather, "puzzle_emb_scale": .scale,
        "puzzle_emb_pad": .pad, "puzzle_emb_rows": .reshape, "concat": .concat, "embed_pos": .add, "scale": .scale,
        "table": .ropeTable, "exp_A_log": .exp, "A": .scale, "add_input": .add, "add": .add,
        "qkv_proj": .matMul, "q": .slice, "k": .slice, "v": .slice, "rope_q": .rope, "rope_k": .rope,
        "attention": .attention, "o_proj": .matMul, "residual": .add, "norm": .rmsNorm,
        "fused_attention": .fusedAttention, "add_norm": .addRMSNorm,
        "gate_up_proj": .matMul, "swiglu": .swiGLU, "down_proj": .matMul, "gate_up_proj_swiglu": .matMul,
        "transpose_in": .transpose, "transpose_out": .transpose,
        "in_proj": .matMul, "out_proj": .matMul, "sum_directions": .add, "mean_directions": .scale,
        "z": .slice, "xBC": .slice, "dt_raw": .slice, "conv1d": .conv1dCausal, "conv_silu": .silu, "x": .slice,
        "B": .slice, "C": .slice, "dt_bias": .add, "dt": .softplus, "scan": .ssmScan, "gate_norm": .gatedRMSNorm,
        "scan_gate": .mamba2ScanGate,
        "grid": .slice, "lm_head": .matMul, "first": .slice, "q_head": .matMul, "halt_logit": .slice, "q_halt": .reshape,
    ]

    static let cases: [(Preset, ScanDirection, Bool)] =
        Preset.allCases.flatMap { p in [(p, ScanDirection.causal, true), (p, .causal, false)] }
        + [(.trMamba2Attn, .bidirectional, true), (.trMamba2Attn, .bidirectional, false)]

    /// Every node of every preset, fused or not: unique, in the scheme, with its role's op.
    @Test(arguments: cases)
    func namesFollowTheScheme(preset: Preset, direction: ScanDirection, fuse: Bool) throws {
        let checkpoint = try Models.checkpoint(preset, direction: direction)
        let config = checkpoint.config
        let (model, _) = try TRMCompiler.compile(checkpoint, fuse: fuse)
        let names = model.graph.nodes.map(\.name)
        #expect(Set(names).count == names.count, "duplicate node names")
        for node in model.graph.nodes {
            #expect(node.name.wholeMatch(of: Self.scheme) != nil, "\(node.name) is not in the scheme")
            let role = NodeNames.role(of: node.name)
            #expect(Self.roles[role] == node.op.kind, "\(node.name) is a \(node.op.name)")
            #expect(role.hasSuffix("_swiglu") == (node.op == .matMul(epilogue: .swiGLU)), "\(node.name): \(node.op)")
        }
        // Each network application of the recursion, in order, with every block's sub-layers.
        var applications: [String] = []
        for name in names where name.hasPrefix("H") {
            let app = name.split(separator: ".").prefix(2).joined(separator: ".")
            if applications.last != app { applications.append(app) }
        }
        let expected = (1...config.hCycles).flatMap { h in (1...config.lCycles).map { "H\(h).L\($0)" } + ["H\(h).H"] }
        #expect(applications == expected)
        for app in expected {
            for scope in config.sublayerScopes {
                #expect(names.contains { $0.hasPrefix("\(app).\(scope).") }, "no node in \(app).\(scope)")
            }
        }
        if fuse {
            let fused = Set(model.graph.nodes.filter(\.op.facts.isFused).map { NodeNames.role(of: $0.name) })
            #expect(fused.isSubset(of: ["fused_attention", "add_norm", "scan_gate", "gate_up_proj_swiglu"]), "\(fused)")
            #expect(fused.contains("add_norm"))
        }
    }

    /// Folded values are named after what they are, and the unrolled recursion's node names say
    /// where each attention sits.
    @Test func examplesFromTheDocs() throws {
        let (attn, _) = try TRMCompiler.compile(Models.checkpoint(.trmAttn))
        let names = Set(attn.graph.nodes.map(\.name))
        for name in [
            "input.embed_tokens", "input.puzzle_emb", "H1.L1.inject.add_input", "H1.L1.inject.add", "H2.H.inject.add",
            "H2.L2.block1.attn.fused_attention", "H1.L1.block0.attn.add_norm", "H1.L2.block0.mlp.gate_up_proj_swiglu",
            "heads.lm_head", "heads.q_halt",
        ] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(attn.graph.initializer(named: "rope.cos") != nil && attn.graph.initializer(named: "rope.sin") != nil)
        let (mamba, _) = try TRMCompiler.compile(Models.checkpoint(.trMamba2Attn))
        #expect(mamba.graph.nodes.contains { $0.name == "H1.H.block0.mamba1.fwd.scan_gate" })
        #expect(mamba.graph.initializer(named: "L_level.layers.0.mamba2.1.A") != nil)
    }

    /// Passes name their results: the scope of the node they replace and the new role, and a name
    /// already taken gets a suffix.
    @Test func replacementNames() {
        #expect(NodeNames.replacing("H1.L2.block0.attn.norm", role: "add_norm") == "H1.L2.block0.attn.add_norm")
        #expect(NodeNames.replacing("RMSNorm_5", role: "add_norm") == "RMSNorm_5")
        #expect(NodeNames.role(of: "H1.L2.block0.attn.qkv_proj") == "qkv_proj")
        #expect(NodeNames.unique("a.b", in: ["a.b", "a.b_2"]) == "a.b_3")
        #expect(NodeNames.unique("a.c", in: ["a.b"]) == "a.c")
    }

    /// H_init and L_init are in the plan (and the metadata), not unused initializers; every
    /// initializer is read by a node.
    @Test(arguments: Preset.allCases)
    func initialCarriesAreInThePlan(preset: Preset) throws {
        let checkpoint = try Models.checkpoint(preset)
        let hInit = checkpoint[StepGraphNames.hInit], lInit = checkpoint[StepGraphNames.lInit]
        let (model, _) = try TRMCompiler.compile(checkpoint)
        let read = Set(model.graph.nodes.flatMap(\.inputs))
        for t in model.graph.initializers { #expect(read.contains(t.name), "\(t.name) is read by no node") }
        let back = try TrmgReader.parse(TrmgWriter.serialize(model))
        #expect(back == model)
        #expect(back.plan.carry.map(\.initial) == [StepGraphNames.hInit, StepGraphNames.lInit])
        #expect(back.plan.carry.map(\.initialValues) == [hInit, lInit])
        let json = try #require(model.metadata["trm.carry"]?.data(using: .utf8))
        let carry = try #require(try JSONSerialization.jsonObject(with: json) as? [[String: Any]])
        let values = carry.map { ($0["init_values"] as? [Double] ?? []).map { Float($0) } }
        #expect(values == [hInit, lInit], "trm.carry's init_values are not the fp32 values")
    }
}
