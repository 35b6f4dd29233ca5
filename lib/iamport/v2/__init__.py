"""PortOne V2 (the official ``portone-server-sdk``) behind the desk-level interface of the V1 client: ``client``
(``PortOneV2Client``), ``mapping`` (a V2 payment as the desk's payment), ``transport`` (the SDK's wire and its errors
as the desk's), ``webhook`` (signed webhooks verified by the SDK)."""
