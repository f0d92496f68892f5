import CLISupport
import GraphIR
import Runtime

let usage = """
    trm-info: validate and describe a checkpoint (.ckpt) or a compiled model (.trmg).

    USAGE: trm-info FILE [--json]

    The file type is detected from its contents. A file that fails validation is reported with the
    reason and exit code 1.

    OPTIONS:
      --json      print the model config JSON only (checkpoints) or the plan's config JSON (.trmg)
      -h, --help  show this help
    """

BlasBuffers.startWithoutOpenBLASThreads()
runCommand("trm-info") {
    let options: [Arguments.Option] = [.init("json", help: "config JSON only"), .init("help", short: "h", help: "help")]
    guard let args = try Arguments.parse(Array(CommandLine.arguments.dropFirst()), options: options, usage: usage) else { return }
    guard args.positional.count == 1 else { throw UsageError("expected one FILE") }
    let path = args.positional[0]
    let head = try AtomicFile.read(path, limit: Checkpoint.maxFileBytes)
    // A safetensors file starts with an 8-byte length followed by '{'; a ModelProto never has '{' there.
    if head.count > 8, head[8] == UInt8(ascii: "{") {
        let ckpt = try Checkpoint.parse(head)
        print(args.has("json") ? ckpt.config.jsonString() : "\(path): checkpoint\n" + ckpt.summary)
    } else {
        let model = try TrmgReader.parse(head)
        _ = try LoadedModel(model)  // what the runtime would refuse (its workspace, the step signature), refused here too
        print(args.has("json") ? model.plan.configJSON : "\(path): trmg model\n" + model.summary)
    }
}
