import Foundation
import Testing
import TriageApp

@Suite struct TextClassifierTests {
    private static let examples: [TextClassifier.Example] = [
        .init(text: "VPN does not connect from home", label: "network"),
        .init(text: "VPN drops every few minutes", label: "network"),
        .init(text: "Wi-Fi down in the office", label: "network"),
        .init(text: "Printer jammed again", label: "printing"),
        .init(text: "Printer shows offline", label: "printing"),
        .init(text: "Toner empty in the printer", label: "printing"),
        .init(text: "Password expired", label: "access"),
        .init(text: "Account locked after wrong password", label: "access"),
        .init(text: "Forgot my password", label: "access"),
    ]

    @Test func tokensAreFoldedWordsThenAdjacentPairs() {
        #expect(TextClassifier.tokens("Drucker DRÜCKT, l'Écran") == ["drucker", "druckt", "ecran", "drucker druckt", "druckt ecran"])
    }

    @Test func stopWordsAndOneLetterWordsAreDropped() {
        #expect(TextClassifier.tokens("I am in the office, a b c") == ["office"])
        #expect(TextClassifier.tokens("Das ist nicht mein Drucker") == ["drucker"])
        #expect(TextClassifier.tokens("").isEmpty)
    }

    @Test func predictsTheObviousLabelAndNamesTheTellingWord() throws {
        let classifier = TextClassifier.train(Self.examples)

        let prediction = try #require(classifier.predict("the printer is jammed"))

        #expect(prediction.label == "printing")
        #expect((0...1).contains(prediction.confidence) && prediction.confidence > 0.5)
        #expect(prediction.topTerms.map(\.term).contains("printer"))
        #expect(prediction.topTerms.count <= 5 && prediction.topTerms.allSatisfy { $0.weight > 0 })
        #expect(prediction.topTerms.map(\.weight) == prediction.topTerms.map(\.weight).sorted(by: >))
    }

    @Test func describesWhatItLearnt() {
        let classifier = TextClassifier.train(Self.examples)

        #expect(classifier.labels == ["access", "network", "printing"])
        #expect(classifier.exampleCount == 9)
        #expect(classifier.vocabularySize > 0)
    }

    @Test func unknownTextOrNoTrainingPredictsNothing() {
        #expect(TextClassifier.train(Self.examples).predict("zzz qqq") == nil)
        #expect(TextClassifier.train([]).predict("printer") == nil)
    }

    @Test func confidenceIsAProbability() {
        let classifier = TextClassifier.train(Self.examples)

        for text in ["vpn", "password printer vpn", "printer printer printer", "locked account"] {
            let confidence = classifier.predict(text)?.confidence ?? -1
            #expect((0...1).contains(confidence), "\(text)")
        }
    }

    @Test func splitIsDeterministicAndDisjoint() {
        let examples = (0..<200).map { TextClassifier.Example(text: "ticket number \($0)", label: $0 % 2 == 0 ? "even" : "odd") }

        let first = TextClassifier.split(examples)
        let second = TextClassifier.split(examples)

        #expect(first.train == second.train && first.test == second.test)
        #expect(first.train.count + first.test.count == examples.count)
        #expect(Set(first.train.map(\.text)).isDisjoint(with: first.test.map(\.text)))
        #expect((20...60).contains(first.test.count))
    }

    @Test func evaluationCountsBothSidesAndBeatsTheMajorityBaseline() {
        let topics = [("network", "vpn wifi router"), ("printing", "printer toner paper"), ("access", "password account login")]
        let examples = (0..<150).map { index in
            let (label, words) = topics[index % 3]
            return TextClassifier.Example(text: "\(words) case \(index)", label: label)
        }

        let (classifier, evaluation) = TextClassifier.evaluate(examples)

        #expect(evaluation.trainCount + evaluation.testCount == examples.count)
        #expect(classifier.exampleCount == evaluation.trainCount)
        #expect(evaluation.accuracy == 1 && evaluation.macroF1 == 1)
        #expect(evaluation.baselineAccuracy < 0.5 && evaluation.baselineMacroF1 < 0.5)
        #expect(TextClassifier.evaluate(examples).evaluation == evaluation)
    }

    @Test func jsonRoundTripKeepsTheModel() throws {
        let classifier = TextClassifier.train(Self.examples)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys

        let json = try encoder.encode(classifier)
        let decoded = try JSONDecoder().decode(TextClassifier.self, from: json)

        #expect(decoded == classifier)
        #expect(decoded.predict("vpn drops") == classifier.predict("vpn drops"))
        #expect(try encoder.encode(decoded) == json)
    }
}
