// Package docdiff compares two frePPLe planner documents element by
// element, the way the planner would see them.
//
// Elements are matched by their identity in the frePPLe vocabulary, not
// by their position: a calendar, location, item, operation or demand by
// its name, an operationplan by its reference and order type, a buffer by
// its item and location, a flow by the item it moves, a load by its
// resource and skill, a suboperation by its operation's name, a calendar
// bucket by its weekly time slot (keys.go has the whole table, from spec
// §3.3.1, §6.1 and frepple.xsd). One record more or less, or records
// written in another order, therefore do not make everything after them
// differ. Elements that are neither list members nor properties (an
// item's <owner>, a demand's <customer>) are matched by their tag, so a
// reference to another object shows as a changed attribute.
//
// The report lists elements missing from B and extra in B, attributes and
// text that differ (with both values), and children written in another
// order, each with a readable XPath-like path such as
// operations/operation[@name="…"]/flows/flow[2]/@quantity, and sums them
// up per section of the document. Sections are named after the comments
// the addon writes before each one (<!-- products --> is "items"), with
// plangate's section names (header, users, calendars, locations, …,
// onhand); the share of elements equal is the figure of the whole.
//
// Options ignore the order of children, ignore the clock values that a
// document takes from the moment it was made (the header's <current> and
// dates within a window of each other), and limit the comparison to some
// sections.
//
// Documents are read whole into a tree (github.com/beevik/etree), so
// memory grows with their size: two documents of 41k elements (2.5 MB of
// XML each) hold about 20–30 MiB while they are compared, and reading and
// comparing them takes a few tenths of a second (TestLargeDocument,
// BenchmarkCompare). Exports and imports elsewhere stream; a comparison
// needs both trees.
package docdiff
