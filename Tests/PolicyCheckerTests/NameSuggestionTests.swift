import PolicyDiagnostics
import Testing

@Suite struct NameSuggestionTests {
    @Test func suggestsTheClosestDeclaredName() {
        #expect(NameSuggestion.closest(to: "Rde", in: ["Red", "Blue", "SystemManagement"]) == "Red")
        #expect(NameSuggestion.closest(to: "systemmanagement", in: ["Red", "SystemManagement"]) == "SystemManagement")
    }

    @Test func staysQuietWhenNothingIsClose() {
        #expect(NameSuggestion.closest(to: "Green", in: ["Red", "Blue"]) == nil)
        #expect(NameSuggestion.closest(to: "", in: ["Red"]) == nil)
        #expect(NameSuggestion.closest(to: "Red", in: []) == nil)
    }
}
