SELECT
  `t14`.`month`,
  (
    `t14`.`active_end` - `t14`.`started`
  ) + `t14`.`cancelled` AS `active_start`,
  `t14`.`started`,
  `t14`.`cancelled`,
  `t14`.`active_end`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(
          CAST(`t14`.`cancelled` AS FLOAT64),
          NULLIF((
            `t14`.`active_end` - `t14`.`started`
          ) + `t14`.`cancelled`, 0)
        ) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `churn_rate`
FROM (
  SELECT
    `t13`.`month`,
    `t13`.`started`,
    `t13`.`cancelled`,
    SUM(`t13`.`started` - `t13`.`cancelled`) OVER (ORDER BY `t13`.`month` ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS `active_end`
  FROM (
    SELECT
      `t12`.`month`,
      COALESCE(`t12`.`started`, 0) AS `started`,
      COALESCE(`t12`.`cancelled`, 0) AS `cancelled`
    FROM (
      SELECT
        `t11`.`month`,
        `t11`.`started`,
        `t8`.`month` AS `month_right`,
        `t8`.`cancelled`
      FROM (
        SELECT
          `t9`.`month`,
          `t9`.`started`
        FROM (
          SELECT
            `t2`.`month`,
            `t7`.`month` AS `month_right`,
            `t7`.`started`
          FROM `memtable_1` AS `t2`
          LEFT OUTER JOIN (
            SELECT
              `t3`.`month`,
              COUNT(`t3`.`subscription_id`) AS `started`
            FROM (
              SELECT
                `t1`.`subscription_id`,
                `t1`.`customer_id`,
                `t1`.`product_id`,
                `t1`.`quantity`,
                `t1`.`unit_price`,
                `t1`.`cycle_unit`,
                `t1`.`cycle_interval`,
                `t1`.`status`,
                `t1`.`started_at`,
                `t1`.`cancelled_at`,
                `t1`.`cancel_reason`,
                `t1`.`next_delivery_on`,
                `t1`.`updated_at`,
                DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) AS `start_date`,
                DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) AS `cancel_date`,
                IF(
                  (
                    DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) IS NOT NULL
                  )
                  AND (
                    DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
                  ),
                  1,
                  0
                ) AS `is_cancelled`,
                DATE_TRUNC(DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)), MONTH) AS `month`
              FROM `subscriptions` AS `t1`
              WHERE
                DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
            ) AS `t3`
            GROUP BY
              1
          ) AS `t7`
            ON `t2`.`month` = `t7`.`month`
        ) AS `t9`
      ) AS `t11`
      LEFT OUTER JOIN (
        SELECT
          `t4`.`month`,
          COUNT(`t4`.`subscription_id`) AS `cancelled`
        FROM (
          SELECT
            `t1`.`subscription_id`,
            `t1`.`customer_id`,
            `t1`.`product_id`,
            `t1`.`quantity`,
            `t1`.`unit_price`,
            `t1`.`cycle_unit`,
            `t1`.`cycle_interval`,
            `t1`.`status`,
            `t1`.`started_at`,
            `t1`.`cancelled_at`,
            `t1`.`cancel_reason`,
            `t1`.`next_delivery_on`,
            `t1`.`updated_at`,
            DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) AS `start_date`,
            DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) AS `cancel_date`,
            IF(
              (
                DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) IS NOT NULL
              )
              AND (
                DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
              ),
              1,
              0
            ) AS `is_cancelled`,
            DATE_TRUNC(DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)), MONTH) AS `month`
          FROM `subscriptions` AS `t1`
          WHERE
            DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
            AND IF(
              (
                DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) IS NOT NULL
              )
              AND (
                DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
              ),
              1,
              0
            ) = 1
        ) AS `t4`
        GROUP BY
          1
      ) AS `t8`
        ON `t11`.`month` = `t8`.`month`
    ) AS `t12`
  ) AS `t13`
) AS `t14`
ORDER BY
  `t14`.`month` ASC NULLS LAST
