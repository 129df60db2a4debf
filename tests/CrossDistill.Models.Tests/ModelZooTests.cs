using CrossDistill.Models;

namespace CrossDistill.Models.Tests;

public class ModelZooTests
{
    [Fact]
    public void UnknownNamesListTheKnownOnes()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => ModelZoo.Get("no_such_model"));
        Assert.Contains("no_such_model", e.Message);
    }
}
