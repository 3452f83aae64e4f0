import ArgumentParser
import Foundation
import OnboardKit

/// The `onboard` command line.
public struct Onboard: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "onboard",
        abstract: "Run, inspect, benchmark and validate perception models for embedded targets.",
        version: OnboardVersion.current,
        subcommands: [RunCommand.self, DetectCommand.self, InspectCommand.self, BenchCommand.self, ProfileCommand.self, DemoCommand.self, ViTDemoCommand.self, QuantizeCommand.self, ValidateCommand.self, CompareCommand.self, BenchGemmCommand.self, EvalCommand.self, MergeCommand.self, SynthCommand.self, PreprocessCommand.self, DeltaCommand.self, EmbedCommand.self, ImportONNXCommand.self, ExportONNXCommand.self])

    public init() {}

    /// Parses and runs; user errors print one line on stderr and exit 1 (usage errors 2).
    public static func runAndExit(arguments: [String]? = nil) -> Never {
        Temporaries.installSignalHandlers()
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(0)
        } catch let error as OnboardError {
            Temporaries.settle()
            ProgressLog.standardError.line("onboard: \(error.description)")
            Foundation.exit(1)
        } catch let error as ExitCode {
            Temporaries.settle()
            Foundation.exit(error.rawValue)
        } catch {
            Temporaries.settle()
            // Help, version and usage errors from the argument parser.
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            ProgressLog.standardError.line("onboard: \(message.replacingOccurrences(of: "Error: ", with: "")) (see 'onboard --help')")
            Foundation.exit(2)
        }
    }
}

/// Precisions parse from their names (`--precision int8`).
extension Precision: ExpressibleByArgument {}
