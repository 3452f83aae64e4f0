import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

/// The quantization recipe a run uses: the one asked for, else the one the bundle was made for
/// (`"recipe"` in its config.json), else the kit's plain per-tensor INT8 recipe.
public struct RecipeChoice {
    public enum Origin: String, Sendable {
        case requested = "as requested"
        case bundle = "named by the bundle"
        case kitDefault = "the kit's default; the bundle names none"
    }

    public static let defaultName = "int8-per-tensor"
    /// The config.json key a bundle names its recipe under.
    public static let configKey = "recipe"

    public let path: String
    public let recipe: QuantizationRecipe
    public let origin: Origin

    /// `requested` is a recipe file. A bundle's `"recipe"` is either the name of a recipe shipped in
    /// Configs/recipes/ (`"qpetr-int8"`) or a `.json` file relative to the bundle directory.
    public init(requested: String?, bundle: ModelBundle) throws {
        if let requested {
            (path, origin) = (requested, .requested)
        } else if let named = bundle.config[Self.configKey] {
            guard let name = named as? String, !name.isEmpty else {
                throw OnboardError.format(path: bundle.configPath, item: Self.configKey, reason: "must be a recipe name or a .json file")
            }
            path = name.hasSuffix(".json")
                ? (bundle.directory as NSString).appendingPathComponent(name)
                : try KitResources.path("Configs/recipes/\(name).json")
            guard FileManager.default.fileExists(atPath: path) else {
                throw OnboardError.format(path: bundle.configPath, item: Self.configKey, reason: "no recipe '\(name)' (looked for \(path))")
            }
            origin = .bundle
        } else {
            (path, origin) = (try KitResources.path("Configs/recipes/\(Self.defaultName).json"), .kitDefault)
        }
        recipe = try QuantizationRecipe.load(path: path)
    }

    /// "recipe PATH (named by the bundle)".
    public var description: String { "recipe \(path) (\(origin.rawValue))" }
}
