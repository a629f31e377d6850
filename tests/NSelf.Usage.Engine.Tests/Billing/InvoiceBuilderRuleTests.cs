using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Configuration;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// Issue 24: the invoice builder's rules that need no store. The ones a store shows (default
/// periods, line cut-offs, late usage) are in the store contract (UsageStoreContract.InvoiceParts).
/// </summary>
public sealed class InvoiceBuilderRuleTests
{
    [Fact]
    public void TaxRate_Refused_SaysWhatWasGivenAndWhatToGive()
    {
        var error = Assert.Throws<UsageException>(() => InvoiceBuilder.TaxRate(new EnvironmentSettings(name => name == "BILLING_TAX_RATE" ? "8,25%" : null)));
        Assert.Equal("$BILLING_TAX_RATE is '8,25%'; it must be a percentage from 0 to 100 such as 8.25.", error.Message);
        Assert.Equal(UsageErrorKind.InvalidArgument, error.Kind);
    }
}
