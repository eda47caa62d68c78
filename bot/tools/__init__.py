"""What the model can call: the endpoint catalogue (`catalogue`, endpoints.json), the checks
on every request (`checks`), the toolbox that runs reads and holds every write for approval
(`toolbox`), typed tools made from the catalogue (`typed`), argument checks, which record a
call is about (`references`, `finder`), what the model is shown of an answer, and the HR
requests one message may make (`budget`).

It imports only HR access (`bot.hr`) and the approvals engine from the rest of the app.
"""
