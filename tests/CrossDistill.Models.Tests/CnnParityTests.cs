namespace CrossDistill.Models.Tests;

/// <summary>The zoo's CNNs against torchvision on the small committed cases (tests/fixtures/models/cnn).</summary>
public class CnnParityTests
{
    public static IEnumerable<object[]> Cases() => CnnReference.SmallCases();

    [Fact]
    public void EveryArchitectureHasACommittedCase()
    {
        var names = Cases().Select(c => (string)c[0]).ToList();
        foreach (var prefix in new[] { "resnet18", "resnet50_cifar", "mobilenet_v2_x", "mobilenet_v2_cifar", "densenet121", "convnext_tiny" })
            Assert.Contains(names, n => n.StartsWith(prefix, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchvision(string name) => CnnReference.Check(CnnReference.SmallDir, name, tol: 1e-4f, gradTol: 1e-3f);
}
