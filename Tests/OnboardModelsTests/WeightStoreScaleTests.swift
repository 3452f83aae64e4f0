import OnboardCore
import OnboardModels
import OnboardTestSupport
import XCTest

/// The scales a quantized bundle may store with an int8 weight: one, one per output channel, or
/// [channels, groups] with the groups dividing each row evenly; anything else names the tensor.
final class WeightStoreScaleTests: XCTestCase {
    private func take(scales: Tensor) throws -> [Float]? {
        let directory = TestPaths.temporaryDirectory("weight-store-scales")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.safetensors"
        try SafeTensorsWriter.write([("w", Tensor(zeros: [4, 32], dtype: .i8)), ("w" + WeightStore.scaleSuffix, scales)], metadata: [:], to: path)
        let store = WeightStore(file: try SafeTensorsFile(path: path))
        _ = try store.take("w", shape: [4, 32])
        return store.scales["w"]
    }

    private func ones(_ shape: [Int]) throws -> Tensor {
        try Tensor(shape: shape, values: [Float](repeating: 0.5, count: shape.reduce(1, *)))
    }

    func test_plainAndGroupedScalesAreTaken() throws {
        XCTAssertEqual(try take(scales: ones([1]))?.count, 1)
        XCTAssertEqual(try take(scales: ones([4]))?.count, 4)
        XCTAssertEqual(try take(scales: ones([4, 2]))?.count, 8, "groups of 16")
        XCTAssertEqual(try take(scales: ones([4, 32]))?.count, 128, "groups of 1")
    }

    func test_scalesThatFitNoGroupingAreRefusedNamingTheTensor() throws {
        var zero = [Float](repeating: 0.5, count: 8)
        zero[5] = 0
        for bad in [try ones([4, 3]), try ones([5, 2]), try ones([3]), try ones([4, 2, 1]), try Tensor(shape: [4, 2], values: zero)] {
            XCTAssertThrowsError(try take(scales: bad), "\(bad.shape)") { error in
                XCTAssertTrue("\(error)".contains("w.qscale"), "\(error)")
            }
        }
    }
}
