"""Analytics: program metrics with written definitions, program and partner dashboards, the quarterly
partner scorecard against targets with red/amber/green status, and the QBR pack as a PDF."""
