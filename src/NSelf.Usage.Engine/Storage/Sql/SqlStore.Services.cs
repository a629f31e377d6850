using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Storage.Sql;

public abstract partial class SqlStore
{
    // Every event, report and quota read needs the catalog; it changes only through RegisterService.
    private ServiceCatalog? _services;

    public ServiceCatalog GetServices(bool refresh = false)
    {
        if (_services is not null && !refresh)
            return _services;
        return _services = new ServiceCatalog(InReadSession(session => session.Query(
            "SELECT service_name, unit, display_price, currency, builtin, description FROM usage_services ORDER BY builtin DESC, service_name",
            r => new UsageService
            {
                Name = r.Text(0),
                Unit = r.Text(1),
                DisplayPrice = r.Money(2),
                Currency = r.Text(3),
                BuiltIn = r.Bool(4),
                Description = r.TextOrNull(5),
            })));
    }

    public UsageService RegisterService(UsageService service, bool replace) => InWriteTransaction(session =>
    {
        var registered = session.Query($"SELECT builtin FROM usage_services WHERE service_name = @name{Dialect.ForUpdate}",
            r => (bool?)r.Bool(0), ("name", service.Name)).FirstOrDefault();
        var recordedUnit = session.Query("SELECT unit FROM usage_services WHERE service_name = @name AND unit <> @unit AND EXISTS (SELECT 1 FROM usage_rollups WHERE service_name = @name)",
            r => r.Text(0), ("name", service.Name), ("unit", service.Unit)).FirstOrDefault();
        if (CatalogRules.RefuseRegistration(service, registered, replace, recordedUnit) is { } refused)
            throw refused;
        session.Execute("""
            INSERT INTO usage_services (service_name, unit, display_price, currency, builtin, description, created_at)
            VALUES (@name, @unit, @price, @currency, @builtin, @description, @now)
            ON CONFLICT (service_name) DO UPDATE SET unit = excluded.unit, display_price = excluded.display_price,
                currency = excluded.currency, description = excluded.description
            """, ("name", service.Name), ("unit", service.Unit), ("price", new MoneyValue(service.DisplayPrice)), ("currency", service.Currency),
            ("builtin", false), ("description", service.Description), ("now", Now()));
        _services = null;
        return service;
    });
}
