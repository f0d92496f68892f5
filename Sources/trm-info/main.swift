import CLISupport
import GraphIR
import Runtime
import TRMCore

let options: [Arguments.Option] = [
    .init("json", help: "print the model config JSON only (checkpoints) or the plan's config JSON (.trmg)"),
    .init("help", short: "h", help: "show this help"),
]

let usage = """
    trm-info: validate and describe a checkpoint (.ckpt) or a compiled model (.trmg).

    USAGE: trm-info FILE [--json]

    The file type is detected from its contents. A file that fails validation is reported with the
    reason and exit code 1.

    OPTIONS:
    \(Arguments.helpText(options))
    """

BlasBuffers.startWithoutOpenBLASThreads()
runCommand("trm-info") {
    guard let args = try Arguments.parse(Array(CommandLine.arguments.dropFirst()), options: options, usage: usage) else { return }
    guard args.positional.count == 1 else { throw UsageError("expected one FILE") }
    let path = args.positional[0]
    let head = try AtomicFile.read(path, limit: Checkpoint.maxFileBytes)
    // A safetensors file starts with an 8-byte length followed by '{'; a ModelProto never has '{' there.
    // Names, identifiers and JSON in the file reach the terminal escaped: JSON with JSON escapes (so it
    // still parses to the same text), the summary with visible ones; our own newlines and tabs stay.
    let json = { (text: String) in terminalEscaped(text, keeping: ["\n", "\t"], style: .json) }
    let text = { (text: String) in terminalEscaped(text, keeping: ["\n", "\t"]) }
    if head.count > 8, head[8] == UInt8(ascii: "{") {
        let ckpt = try Checkpoint.parse(head)
        print(args.has("json") ? json(ckpt.config.jsonString()) : "\(terminalEscaped(path)): checkpoint\n" + text(ckpt.summary))
    } else {
        let model = try TrmgReader.parse(head, externalDataBeside: path)
        _ = try LoadedModel(model)  // what the runtime would refuse (its workspace, the step signature), refused here too
        print(args.has("json") ? json(model.plan.configJSON) : "\(terminalEscaped(path)): trmg model\n" + text(model.summary))
    }
}
