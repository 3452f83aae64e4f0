import Foundation
import OnboardModels

extension CalibrationSet {
    /// The names of the first `count` files.
    func fileNames(_ count: Int) -> [String] { files.prefix(count).map { ($0 as NSString).lastPathComponent } }

    /// SHA-256 over the first `count` files.
    func digest(_ count: Int) throws -> String {
        try ContentDigest.files(Array(zip(fileNames(count), files.prefix(count))).map { (name: $0.0, path: $0.1) })
    }
}
